package lexlocal

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestWireTypesMirrorPublicTypes keeps the wire types in step with the
// types a Brain speaks: same fields, same order, same tags, except the
// intent's type and fields that never go on the wire.
func TestWireTypesMirrorPublicTypes(t *testing.T) {
	for _, pair := range [][2]any{{SessionState{}, wireState{}}, {Interpretation{}, wireInterpretation{}}, {Intent{}, wireIntent{}}} {
		pub, wire := reflect.TypeOf(pair[0]), reflect.TypeOf(pair[1])
		var names []string
		for f := range pub.Fields() {
			if f.Tag.Get("json") == "-" {
				continue
			}
			names = append(names, f.Name)
			w, ok := wire.FieldByName(f.Name)
			if !ok {
				t.Errorf("%s.%s has no counterpart in %s", pub.Name(), f.Name, wire.Name())
				continue
			}
			if w.Tag != f.Tag {
				t.Errorf("%s.%s: tag %q, wire tag %q", pub.Name(), f.Name, f.Tag, w.Tag)
			}
		}
		if wire.NumField() != len(names) {
			t.Errorf("%s has %d fields, %s %d on the wire", wire.Name(), wire.NumField(), pub.Name(), len(names))
		}
		for i, n := range names {
			if i < wire.NumField() && wire.Field(i).Name != n {
				t.Errorf("%s field %d is %s, want %s", wire.Name(), i, wire.Field(i).Name, n)
			}
		}
	}
}

// TestWireEncodingMatchesPublicTypes checks that an answer encodes to the
// same bytes through the wire types as through the public types.
func TestWireEncodingMatchesPublicTypes(t *testing.T) {
	filled := &Slot{Value: &SlotValue{OriginalValue: "<b>A1&B2</b>", InterpretedValue: "A1B2", ResolvedValues: []string{"A1B2"}}}
	states := []SessionState{
		{},
		{SessionAttributes: map[string]string{}},
		{
			DialogAction: &DialogAction{Type: "ElicitSlot", SlotToElicit: "OrderNumber", SlotElicitationStyle: "Default"},
			Intent: &Intent{Name: "OrderStatus", Slots: map[string]*Slot{
				"OrderNumber": nil, "Colour": filled,
				"Many": {Shape: "List", Values: []*Slot{filled, filled}, SubSlots: map[string]*Slot{"x": nil}},
			}, State: "InProgress", ConfirmationState: "None"},
			ActiveContexts:       json.RawMessage(`[ {"name": "ctx"} ]`),
			SessionAttributes:    map[string]string{"b": "2", "a": "<1>", "ü": "\u2028"},
			OriginatingRequestID: "req-1",
			RuntimeHints:         json.RawMessage(`{"slotHints":{}}`),
			Attempts:             3,
		},
		{Intent: &Intent{Name: "FallbackIntent"}, SessionAttributes: map[string]string{"k": "v"}},
	}
	interps := [][]Interpretation{
		nil,
		{},
		{
			{Intent: &Intent{Name: "OrderStatus", Slots: map[string]*Slot{"OrderNumber": filled}}, NLUConfidence: &ConfidenceScore{Score: 0.87}},
			{Intent: &Intent{Name: "FallbackIntent"}},
			{NLUConfidence: &ConfidenceScore{Score: 0}, InterpretationSource: "Lex"},
		},
	}
	msgs := []Message{{Content: "hi & <bye>", ContentType: "PlainText"}, {ContentType: "ImageResponseCard", ImageResponseCard: &ImageResponseCard{Title: "t", Buttons: []Button{{Text: "a", Value: "b"}}}}}
	for i, st := range states {
		for j, in := range interps {
			type publicAnswer struct {
				Messages          []Message         `json:"messages,omitempty"`
				SessionState      *SessionState     `json:"sessionState"`
				Interpretations   []Interpretation  `json:"interpretations,omitempty"`
				RequestAttributes map[string]string `json:"requestAttributes,omitempty"`
				SessionID         string            `json:"sessionId"`
			}
			want, err := json.Marshal(publicAnswer{msgs, &st, in, map[string]string{"r": "1"}, "s-1"})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			buf.WriteString("left over from an earlier answer")
			buf.Reset()
			if err := encodeAnswer(&buf, recognizeTextResponse{msgs, st.wire(), wireInterpretations(in), map[string]string{"r": "1"}, "s-1"}); err != nil {
				t.Fatal(err)
			}
			if got := buf.Bytes(); !bytes.Equal(got, want) {
				t.Errorf("state %d, interpretations %d:\n got %s\nwant %s", i, j, got, want)
			}
		}
	}
}

// TestIDChecksMatchPatterns compares the hand-written id checks with the
// patterns AWS documents, on edge cases and on random strings over an
// alphabet that mixes allowed and forbidden bytes.
func TestIDChecksMatchPatterns(t *testing.T) {
	checks := []struct {
		name    string
		pattern *regexp.Regexp
		check   func(string) bool
	}{
		{"botId", regexp.MustCompile(`^[0-9a-zA-Z]{10}$`), isBotID},
		{"botAliasId", regexp.MustCompile(`^(TSTALIASID|[0-9a-zA-Z]{10})$`), isAliasID},
		{"sessionId", regexp.MustCompile(`^[0-9a-zA-Z._:-]{2,100}$`), isSessionID},
		{"localeId", regexp.MustCompile(`^[a-z]{2,3}_([A-Z]{2}|[0-9]{3})$`), isLocaleID},
	}
	inputs := []string{
		"", "a", "ab", "TSTALIASID", "SBDEMOBOT1", "SBDEMOBOT1\n", "SBDEMOBOT12", "SBDEMOBOT", "SBDEMO-OT1", "ÄBDEMOBOT1",
		"en_US", "es_419", "pt_BR", "fil_PH", "en_us", "EN_US", "e_US", "engl_US", "en_USA", "en_41", "en_4190", "en-US", "en_US\n", "en__US", "_US",
		"s-1", "a:b.c_d-e", "a b", "a/b", strings.Repeat("x", 100), strings.Repeat("x", 101), "\xff\xfe", "ab\x00",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aAzZ09_-.:/ \n\xc3\xa4TSTALIASIDenUS419"
	for range 20000 {
		b := make([]byte, rng.IntN(14))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, c := range checks {
		for _, in := range inputs {
			if got, want := c.check(in), c.pattern.MatchString(in); got != want {
				t.Errorf("%s %q: check says %v, pattern %v", c.name, in, got, want)
			}
		}
	}
}
