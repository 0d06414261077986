package nlu

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// flowers is a small bot in the shape of the Lex developer guide's
// OrderFlowers, plus a free-text slot.
func flowers(t testing.TB, opts Options) *Model {
	t.Helper()
	if opts.Now == nil {
		opts.Now = refNow
	}
	m, err := Compile([]Intent{
		{
			Name: "OrderFlowers",
			Slots: []Slot{
				{"FlowerType", "FlowerTypes"}, {"Count", TypeNumber},
				{"PickupDate", TypeDate}, {"PickupTime", TypeTime}, {"Colour", "Colours"},
			},
			Utterances: []string{
				"I would like to pick up flowers",
				"I would like to order some {FlowerType}",
				"I want {Count} {FlowerType} delivered on {PickupDate} at {PickupTime}",
				"can I get {Colour} {FlowerType}",
				"order flowers",
			},
		},
		{
			Name:       "BookHotel",
			Slots:      []Slot{{"City", TypeCity}, {"Nights", TypeNumber}},
			Utterances: []string{"book a hotel in {City}", "I need a room in {City} for {Nights} nights", "reserve a hotel room"},
		},
		{Name: "Greeting", Utterances: []string{"hello", "hi there", "good morning"}},
	}, []SlotType{
		{Name: "FlowerTypes", Resolution: TopResolution, Values: []Value{
			{Value: "roses", Synonyms: []string{"rose", "red roses"}},
			{Value: "tulips", Synonyms: []string{"tulip"}},
			{Value: "lilies", Synonyms: []string{"lily"}},
		}},
		{Name: "Colours", Resolution: OriginalValue, Values: []Value{
			{Value: "red", Synonyms: []string{"crimson", "scarlet"}},
			{Value: "blue"},
		}},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExtractSlotCustomTypes(t *testing.T) {
	m := flowers(t, Options{})
	for _, tc := range []struct {
		slot, in string
		want     SlotMatch
		ok       bool
	}{
		{"FlowerType", "roses", SlotMatch{"roses", "roses", []string{"roses"}}, true},
		{"FlowerType", "I'd like some Roses please", SlotMatch{"Roses", "roses", []string{"roses"}}, true},
		// TOP_RESOLUTION: the synonym resolves to its value
		{"FlowerType", "a rose", SlotMatch{"rose", "roses", []string{"roses"}}, true},
		{"FlowerType", "red roses", SlotMatch{"red roses", "roses", []string{"roses"}}, true},
		// typos on longer words are forgiven, on short ones not
		{"FlowerType", "tulipps", SlotMatch{"tulipps", "tulips", []string{"tulips"}}, true},
		{"FlowerType", "lillies", SlotMatch{"lillies", "lilies", []string{"lilies"}}, true},
		{"FlowerType", "lilu", SlotMatch{}, false},
		{"FlowerType", "dandelions", SlotMatch{}, false},
		// ORIGINAL_VALUE keeps what was typed, and accepts new values
		{"Colour", "crimson", SlotMatch{"crimson", "crimson", []string{"red"}}, true},
		{"Colour", "purple", SlotMatch{"purple", "purple", []string{}}, true},
		{"Colour", "", SlotMatch{}, false},
	} {
		got, ok := m.ExtractSlot("OrderFlowers", tc.slot, tc.in)
		if ok != tc.ok || ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExtractSlot(%s, %q) = %+v,%v want %+v,%v", tc.slot, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExtractSlotBuiltins(t *testing.T) {
	m := flowers(t, Options{})
	for _, tc := range []struct {
		intent, slot, in string
		interpreted      string
		original         string
	}{
		{"OrderFlowers", "Count", "twenty three", "23", "twenty three"},
		{"OrderFlowers", "Count", "veintitrés", "23", "veintitrés"},
		{"OrderFlowers", "PickupDate", "next friday", "2026-03-06", "next friday"},
		{"OrderFlowers", "PickupDate", "5 de marzo", "2026-03-05", "5 de marzo"},
		{"OrderFlowers", "PickupTime", "3pm", "15:00", "3pm"},
		{"OrderFlowers", "PickupTime", "4", "04:00", "4"}, // an hour, when asked for a time
		{"OrderFlowers", "PickupTime", "noon", "12:00", "noon"},
		{"BookHotel", "City", "  New York ", "New York", "New York"},
		{"BookHotel", "Nights", "3 nights", "3", "3"},
	} {
		got, ok := m.ExtractSlot(tc.intent, tc.slot, tc.in)
		if !ok || got.Interpreted != tc.interpreted || got.Original != tc.original {
			t.Errorf("ExtractSlot(%s, %q) = %+v,%v want interpreted %q original %q", tc.slot, tc.in, got, ok, tc.interpreted, tc.original)
		}
	}
	for _, tc := range []struct{ intent, slot, in string }{
		{"OrderFlowers", "Count", "lots"},
		{"OrderFlowers", "PickupDate", "whenever"},
		{"OrderFlowers", "PickupTime", "soonish"},
		{"OrderFlowers", "NoSuchSlot", "3"},
		{"NoSuchIntent", "Count", "3"},
	} {
		if got, ok := m.ExtractSlot(tc.intent, tc.slot, tc.in); ok {
			t.Errorf("ExtractSlot(%s, %s, %q) = %+v, want no value", tc.intent, tc.slot, tc.in, got)
		}
	}
}

func TestMatchFillsPlaceholders(t *testing.T) {
	m := flowers(t, Options{})
	for _, tc := range []struct {
		in     string
		intent string
		slots  map[string]string // slot -> Interpreted
	}{
		{"I want 3 roses delivered on March 5 at 3pm", "OrderFlowers",
			map[string]string{"Count": "3", "FlowerType": "roses", "PickupDate": "2026-03-05", "PickupTime": "15:00"}},
		{"I would like to order some tulip", "OrderFlowers", map[string]string{"FlowerType": "tulips"}},
		{"could I get crimson lilies maybe", "OrderFlowers", map[string]string{"Colour": "crimson", "FlowerType": "lilies"}},
		{"book a hotel in New York please", "BookHotel", map[string]string{"City": "New York"}},
		{"I need a room in San José for two nights", "BookHotel", map[string]string{"City": "San José", "Nights": "2"}},
		{"hello", "Greeting", nil},
	} {
		r := m.Match(tc.in)
		if r.Best != tc.intent {
			t.Errorf("Match(%q).Best = %s, want %s (%s)", tc.in, r.Best, tc.intent, top(r))
			continue
		}
		got := map[string]string{}
		for name, s := range r.Interpretations[0].Slots {
			got[name] = s.Interpreted
		}
		if len(tc.slots) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.slots) {
			t.Errorf("Match(%q) slots = %v, want %v", tc.in, got, tc.slots)
		}
	}
}

func TestStopWordAnchorsNeedTheirContentWord(t *testing.T) {
	m, err := Compile([]Intent{{
		Name:       "OrderStatus",
		Slots:      []Slot{{"OrderNumber", TypeAlphaNumeric}},
		Utterances: []string{"my order number is {OrderNumber}", "where is my order"},
	}}, nil, Options{Language: "en", Now: refNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		// "is" alone anchors nothing: "slow" is no order number.
		{"my computer is slow", ""},
		// "is" preceded by the template's "number" does.
		{"order number is abcdef", "abcdef"},
		{"my order number is xyzzy", "xyzzy"},
	} {
		got := ""
		for _, in := range m.Match(tc.in).Interpretations {
			if s, ok := in.Slots["OrderNumber"]; ok {
				got = s.Interpreted
			}
		}
		if got != tc.want {
			t.Errorf("Match(%q): OrderNumber = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExactUtteranceScoresOne(t *testing.T) {
	m := loadBot(t, "testdata/demo_en.json", Options{})
	for _, tc := range []struct{ in, intent string }{
		{"kmConversationStarted", "Welcome"},
		{"kommunicateMediaEvent", "Attachment"},
		{"Track my order A1B2C3", "OrderStatus"},
	} {
		r := m.Match(tc.in)
		if r.Best != tc.intent || r.Interpretations[0].Score != 1 {
			t.Errorf("Match(%q) = %s, want %s at 1.00", tc.in, top(r), tc.intent)
		}
	}
	r := m.Match("my order number is ORD-5521")
	if s := r.Interpretations[0].Slots["OrderNumber"]; r.Best != "OrderStatus" || s.Original != "ORD-5521" {
		t.Errorf("order number: %s %+v", top(r), s)
	}
}

func TestThreshold(t *testing.T) {
	const text = "where's my parcel"
	for _, tc := range []struct {
		threshold float64
		want      string
	}{
		{0, "OrderStatus"}, // default 0.4
		{0.4, "OrderStatus"},
		{0.99, FallbackIntent},
	} {
		m := loadBot(t, "testdata/demo_en.json", Options{Threshold: tc.threshold})
		r := m.Match(text)
		if r.Best != tc.want {
			t.Errorf("threshold %.2f: Best = %s, want %s (%s)", tc.threshold, r.Best, tc.want, top(r))
		}
		if r.Best == FallbackIntent && r.Interpretations[0].Intent != FallbackIntent {
			t.Errorf("threshold %.2f: fallback chosen but not first: %s", tc.threshold, top(r))
		}
	}
	if _, err := Compile(nil, nil, Options{Threshold: 1.5}); err == nil {
		t.Error("threshold above 1 accepted")
	}
}

// checkResult holds for every Result: scores in [0,1] with two decimals,
// sorted, exactly one FallbackIntent without a score, placed at the
// threshold, and Best consistent with the list.
func checkResult(t testing.TB, m *Model, text string, r Result) {
	t.Helper()
	fallbacks := 0
	prev := 2.0
	for i, in := range r.Interpretations {
		if in.Intent == FallbackIntent {
			fallbacks++
			if in.HasScore() || in.Score != 0 || in.Slots != nil {
				t.Errorf("%q: FallbackIntent carries a score or slots: %+v", text, in)
			}
			if i+1 < len(r.Interpretations) && r.Interpretations[i+1].Score >= m.threshold {
				t.Errorf("%q: FallbackIntent above a passing intent: %s", text, top(r))
			}
			continue
		}
		if in.Score < 0 || in.Score > 1 || math.IsNaN(in.Score) || math.Abs(math.Round(in.Score*100)-in.Score*100) > 1e-9 {
			t.Errorf("%q: bad score %v", text, in.Score)
		}
		if in.Score > prev {
			t.Errorf("%q: not sorted: %s", text, top(r))
		}
		prev = in.Score
	}
	if fallbacks != 1 {
		t.Errorf("%q: %d FallbackIntent interpretations", text, fallbacks)
	}
	if len(r.Interpretations) > maxInterpretations {
		t.Errorf("%q: %d interpretations", text, len(r.Interpretations))
	}
	if r.Interpretations[0].Intent != r.Best {
		t.Errorf("%q: Best %s is not first: %s", text, r.Best, top(r))
	}
}

func TestInterpretationsShape(t *testing.T) {
	m := loadBot(t, "testdata/demo_en.json", Options{})
	for _, text := range []string{
		"where is my order", "thanks, bye", "asdf", "", "   ", "I want to return a product I bought, how much is shipping?",
	} {
		checkResult(t, m, text, m.Match(text))
	}
	r := m.Match("I want to return a product I bought, how much is shipping?")
	if len(r.Interpretations) < 3 {
		t.Errorf("expected several candidate intents: %s", top(r))
	}
	if r := m.Match("tell me a joke"); r.Best != FallbackIntent || r.Interpretations[0].Intent != FallbackIntent {
		t.Errorf("out of domain: %s", top(r))
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		intents []Intent
		want    string
	}{
		{"unnamed", []Intent{{Utterances: []string{"hi"}}}, "without a name"},
		{"duplicate", []Intent{{Name: "A"}, {Name: "A"}}, "twice"},
		{"unknown type", []Intent{{Name: "A", Slots: []Slot{{"S", "Nope"}}}}, "unknown slot type"},
		{"undeclared slot", []Intent{{Name: "A", Utterances: []string{"buy {Thing}"}}}, "undeclared slot"},
		{"unclosed", []Intent{{Name: "A", Slots: []Slot{{"T", TypeNumber}}, Utterances: []string{"buy {T"}}}, "unclosed"},
	} {
		_, err := Compile(tc.intents, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestSpanish(t *testing.T) {
	m := loadBot(t, "testdata/demo_es.json", Options{})
	for _, tc := range []struct{ in, want string }{
		{"kmConversationStarted", "Welcome"},
		{"¡Hola, buenas!", "Greeting"},
		{"quisiera hablar con una persona de verdad", "TalkToHuman"},
		{"¿dónde está mi paquete?", "OrderStatus"},
		{"mi pedido es AB123", "OrderStatus"},
		{"¿qué artículos tienen?", "Products"},
		{"mi pedio", "OrderStatus"}, // typos of lexicon words
		{"prodcutos", "Products"},
		{"¿qué tiempo hace en Madrid?", FallbackIntent},
		{"cuéntame un chiste", FallbackIntent},
	} {
		r := m.Match(tc.in)
		checkResult(t, m, tc.in, r)
		if r.Best != tc.want {
			t.Errorf("Match(%q) = %s, want %s", tc.in, top(r), tc.want)
		}
	}
	r := m.Match("mi número de pedido es AB123")
	if s := r.Interpretations[0].Slots["OrderNumber"]; s.Original != "AB123" {
		t.Errorf("order number: %s %+v", top(r), r.Interpretations[0].Slots)
	}
}

func TestMatchIsDeterministic(t *testing.T) {
	a := loadBot(t, "testdata/demo_en.json", Options{})
	b := loadBot(t, "testdata/demo_en.json", Options{})
	for _, text := range []string{"where is my order", "I want a refund", "hello there", "show me the goods"} {
		if ra, rb := a.Match(text), b.Match(text); !reflect.DeepEqual(ra, rb) {
			t.Errorf("%q: %s vs %s", text, top(ra), top(rb))
		}
	}
}

func FuzzMatch(f *testing.F) {
	m := flowers(f, Options{})
	for _, s := range []string{
		"I want 3 roses delivered on March 5 at 3pm", "", "{FlowerType}", "12/25/2026 15:30",
		"veintitrés de marzo", "ORD-5521-", "ññññ", "\xff\xfe", "at 99:99pm", "in 99999999999999999999 days",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkResult(t, m, text, m.Match(text))
		for _, s := range []string{"FlowerType", "Count", "PickupDate", "PickupTime", "Colour"} {
			m.ExtractSlot("OrderFlowers", s, text)
		}
		m.ExtractSlot("BookHotel", "City", text)
	})
}
