package export

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// zipDir builds an export zip from a readable testdata tree, so the
// repository holds JSON rather than opaque archives.
func zipDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type entry struct {
	name string
	data []byte
	mode fs.FileMode
}

func mkzip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if len(e.data) == 0 {
			h.Method = zip.Store // a deflater per empty entry makes 10,001 entries slow
		}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func loadBytes(b []byte) (*Bot, error) {
	return LoadZip(bytes.NewReader(b), int64(len(b)), "test.zip")
}

func mustLoad(t *testing.T, dir string) *Bot {
	t.Helper()
	bot, err := loadBytes(zipDir(t, filepath.Join("testdata", dir)))
	if err != nil {
		t.Fatal(err)
	}
	return bot
}

func text(s string) Message { return Message{Kind: PlainText, Text: s} }

func TestSupportFixture(t *testing.T) {
	bot := mustLoad(t, "support") // Manifest spells metaData
	if bot.ID != "SUPPORTBOT" || bot.Name != "SupportBot" || bot.Description != "Fixture: order status in two languages" ||
		bot.IdleSessionTTL != 10*time.Minute || bot.V1 || len(bot.Locales) != 2 {
		t.Fatalf("bot = %+v", bot)
	}
	en := bot.Locales["en_US"]
	if en.ID != "en_US" || en.ConfidenceThreshold != 0.45 || en.Clarification != nil || en.Abort != nil {
		t.Fatalf("en_US = %+v", en)
	}
	if got := []string{en.Intents[0].Name, en.Intents[1].Name}; !reflect.DeepEqual(got, []string{"FallbackIntent", "OrderStatus"}) {
		t.Fatalf("intent order %v", got)
	}
	wantType := &SlotType{Name: "Product", Strategy: TopResolution, Values: []SlotValue{
		{Value: "laptop", Synonyms: []string{"notebook", "computer"}},
		{Value: "phone", Synonyms: []string{"mobile"}},
		{Value: "tablet"},
	}}
	if !reflect.DeepEqual(en.SlotTypes, map[string]*SlotType{"Product": wantType}) {
		t.Errorf("slot types = %+v", en.SlotTypes["Product"])
	}
	fb := en.Intent("FallbackIntent")
	if fb.ParentSignature != "AMAZON.FallbackIntent" || fb.Closing.Groups[0].Message != text("Sorry, I did not get that.") {
		t.Errorf("fallback = %+v", fb)
	}
	want := &Intent{
		Name:       "OrderStatus",
		Utterances: []string{"where is my order", "track order {OrderNumber}", "status of my {Product} order"},
		Slots: []*Slot{
			{Name: "OrderNumber", Type: "AMAZON.Number", Required: true, Prompt: &Prompt{MaxRetries: 2, MessageGroups: MessageGroups{Groups: []MessageGroup{{
				Message: text("What is your order number?"), Variations: []Message{text("Which order number?")}}}}}},
			{Name: "Product", Type: "Product", Prompt: &Prompt{MessageGroups: MessageGroups{Groups: []MessageGroup{{Message: Message{
				Kind: ImageResponseCard, Card: &Card{Title: "Which product?", Subtitle: "Pick one", ImageURL: "https://example.com/products.png",
					Buttons: []Button{{"Laptop", "laptop"}, {"Phone", "phone"}}}}}}}}},
		},
		Confirmation: &Prompt{MaxRetries: 1, MessageGroups: MessageGroups{Groups: []MessageGroup{{Message: text("Look up order {OrderNumber}?")}}}},
		Declination:  &MessageGroups{Groups: []MessageGroup{{Message: text("Okay, I won't look it up.")}}},
		Closing: &MessageGroups{Groups: []MessageGroup{{Message: text("Order {OrderNumber} is on its way."), Variations: []Message{
			text("Good news: {OrderNumber} has shipped."), {Kind: SSML, Text: "<speak>Order {OrderNumber} has shipped.</speak>"}}}}},
		Initial: &MessageGroups{Groups: []MessageGroup{{Message: Message{Kind: CustomPayload,
			Text: `{"templateId":"6","payload":[{"title":"Track"}]}`}}}},
		FulfillmentCodeHook: true,
	}
	if got := en.Intent("OrderStatus"); !reflect.DeepEqual(got, want) {
		t.Errorf("OrderStatus:\n got %+v\nwant %+v", got, want)
	}
	es := bot.Locales["es_US"] // messageGroups spelling
	if es.ConfidenceThreshold != 0.5 || es.SlotTypes["Product"].Strategy != OriginalValue {
		t.Errorf("es_US = %+v", es)
	}
	eo := es.Intent("OrderStatus")
	if eo.Closing.Groups[0].Message != text("El pedido {OrderNumber} está en camino.") || eo.Slots[0].Prompt.MaxRetries != 3 ||
		eo.Slots[0].Prompt.Groups[0].Message != text("¿Cuál es su número de pedido?") || eo.Confirmation != nil {
		t.Errorf("es OrderStatus = %+v", eo)
	}
}

func TestOrderFlowersFixture(t *testing.T) {
	bot := mustLoad(t, "orderflowers") // Manifest spells metadata
	loc := bot.Locales["en_US"]
	of := loc.Intent("OrderFlowers")
	var names, types []string
	for _, s := range of.Slots {
		names, types = append(names, s.Name), append(types, s.Type)
		if !s.Required || s.Prompt.MaxRetries != 2 {
			t.Errorf("slot %+v", s)
		}
	}
	if !reflect.DeepEqual(names, []string{"FlowerType", "PickupDate", "PickupTime"}) ||
		!reflect.DeepEqual(types, []string{"FlowerTypes", "AMAZON.Date", "AMAZON.Time"}) {
		t.Errorf("slots %v %v", names, types)
	}
	if got := of.Confirmation.Groups[0].Message.Text; got != "Okay, your {FlowerType} will be ready for pickup by {PickupTime} on {PickupDate}. Does this sound okay?" {
		t.Errorf("confirmation %q", got)
	}
	if len(loc.SlotTypes["FlowerTypes"].Values) != 3 || bot.IdleSessionTTL != 5*time.Minute {
		t.Errorf("bot %+v", bot)
	}
}

func TestDirMatchesZip(t *testing.T) {
	for _, dir := range []string{"support", "orderflowers"} {
		fromDir, err := LoadDir(filepath.Join("testdata", dir))
		if err != nil {
			t.Fatal(err)
		}
		if fromZip := mustLoad(t, dir); !reflect.DeepEqual(fromDir, fromZip) {
			t.Errorf("%s: directory and zip loads differ", dir)
		}
	}
}

func TestLoadSniffs(t *testing.T) {
	tmp := t.TempDir()
	zp := filepath.Join(tmp, "bot.bin")
	if err := os.WriteFile(zp, zipDir(t, "testdata/orderflowers"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{zp, "testdata/v1/support_v1.json", "testdata/support"} {
		if _, err := Load(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	junk := filepath.Join(tmp, "junk")
	os.WriteFile(junk, []byte("hello"), 0o600)
	if bot, err := Load(junk); err == nil || bot != nil {
		t.Errorf("junk loaded: %v", err)
	}
}

func TestV1(t *testing.T) {
	f, err := os.Open("testdata/v1/support_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bot, err := LoadV1(f, "support_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bot.V1 || bot.Name != "SupportBotV1" || bot.IdleSessionTTL != 5*time.Minute {
		t.Fatalf("bot %+v", bot)
	}
	loc := bot.Locales["en_US"]
	wantClar := &Prompt{MaxAttempts: 2, MaxRetries: 1, MessageGroups: MessageGroups{Groups: []MessageGroup{{
		Message: text("Sorry, can you please repeat that?"), Variations: []Message{text("Sorry, I did not catch that.")}}}}}
	if !reflect.DeepEqual(loc.Clarification, wantClar) {
		t.Errorf("clarification %+v", loc.Clarification)
	}
	if loc.Abort.Groups[0].Message != text("Sorry, I could not understand. Goodbye.") {
		t.Errorf("abort %+v", loc.Abort)
	}
	if st := loc.SlotTypes["Product"]; st.Strategy != TopResolution || st.Values[0].Synonyms[0] != "notebook" {
		t.Errorf("slot type %+v", st)
	}
	in := loc.Intent("OrderStatus")
	if in.Slots[0].Name != "OrderNumber" || in.Slots[0].Type != "AMAZON.Number" || !in.Slots[0].Required ||
		in.Slots[0].Prompt.MaxAttempts != 3 || in.Slots[1].Required {
		t.Errorf("slots %+v %+v", in.Slots[0], in.Slots[1])
	}
	if in.Confirmation.MaxRetries != 1 || in.Declination.Groups[0].Message != text("Okay, never mind.") ||
		len(in.Closing.Groups) != 2 || in.Closing.Groups[1].Message.Kind != CustomPayload ||
		in.FulfillmentCodeHook || !in.DialogCodeHook {
		t.Errorf("intent %+v", in)
	}
}

// replace returns the fixture's files with some overridden (nil deletes).
func replace(t *testing.T, dir string, over map[string][]byte) []byte {
	t.Helper()
	var entries []entry
	root := filepath.Join("testdata", dir)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		data, _ := os.ReadFile(p)
		if o, ok := over[rel]; ok {
			if o == nil {
				return nil
			}
			data = o
		}
		entries = append(entries, entry{name: rel, data: data})
		return nil
	})
	return mkzip(t, entries...)
}

func TestMalformed(t *testing.T) {
	good := zipDir(t, "testdata/orderflowers")
	const of = "OrderFlowers/BotLocales/en_US/Intents/OrderFlowers/"
	many := make([]entry, 10001)
	for i := range many {
		many[i] = entry{name: fmt.Sprintf("e%d", i)}
	}
	tests := []struct {
		name string
		zip  []byte
		want string
	}{
		{"traversal", mkzip(t, entry{name: "../evil.json", data: []byte("{}")}), "path traversal"},
		{"absolute", mkzip(t, entry{name: "/etc/passwd", data: []byte("x")}), "absolute"},
		{"backslash", mkzip(t, entry{name: `a\..\..\evil`, data: []byte("x")}), "backslash"},
		{"symlink", mkzip(t, entry{name: "link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}), "symbolic link"},
		{"duplicate", mkzip(t, entry{name: "Manifest.json", data: []byte("{}")}, entry{name: "Manifest.json", data: []byte("{}")}), "duplicate entry"},
		{"too many entries", mkzip(t, many...), "entries"},
		{"zip bomb", mkzip(t, entry{name: "Manifest.json", data: make([]byte, 3<<20)}), "zip bomb"},
		{"oversized file", mkzip(t, entry{name: "Manifest.json", data: make([]byte, 5<<20)}), "limit"},
		{"truncated", good[:len(good)/2], "not a readable zip"},
		{"not a zip", []byte("definitely not a zip archive"), "not a readable zip"},
		{"invalid JSON", replace(t, "orderflowers", map[string][]byte{of + "Intent.json": []byte("{\n  \"name\": \"OrderFlowers\",\n  oops\n}")}),
			of + "Intent.json: invalid JSON at line 3, column 3"},
		{"unknown slot type", replace(t, "orderflowers", map[string][]byte{of + "Slots/PickupDate/Slot.json": []byte(
			`{"name":"PickupDate","slotTypeName":"OrderNo","valueElicitationSetting":{"slotConstraint":"Optional"}}`)}),
			of + `Slots/PickupDate/Slot.json: slotTypeName: unknown slot type "OrderNo"`},
		{"priority names missing slot", replace(t, "orderflowers", map[string][]byte{of + "Slots/PickupTime/Slot.json": nil}),
			of + `Intent.json: slotPriorities[2].slotName: no slot named "PickupTime"`},
		{"no locales", mkzip(t, entry{name: "Manifest.json", data: []byte(`{"metadata":{"fileFormat":"LexJson","resourceType":"Bot"}}`)},
			entry{name: "B/Bot.json", data: []byte(`{"name":"B"}`)}), "no locales"},
		{"no manifest", mkzip(t, entry{name: "B/Bot.json", data: []byte(`{"name":"B"}`)}), "Manifest.json: missing"},
		{"two spellings", replace(t, "orderflowers", map[string][]byte{of + "Slots/PickupDate/Slot.json": []byte(
			`{"name":"PickupDate","slotTypeName":"AMAZON.Date","valueElicitationSetting":{"slotConstraint":"Required","promptSpecification":{"maxRetries":1,` +
				`"messageGroups":[{"message":{"plainTextMessage":{"value":"a"}}}],"messageGroupsList":[{"message":{"plainTextMessage":{"value":"b"}}}]}}}`)}),
			"both messageGroupsList and messageGroups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bot, err := loadBytes(tc.zip)
			if err == nil || bot != nil {
				t.Fatalf("loaded: bot=%v err=%v", bot != nil, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestTotalLimit(t *testing.T) {
	lim := defaultLimits
	lim.maxTotal = 1000
	b := zipDir(t, "testdata/orderflowers")
	if bot, err := loadZip(bytes.NewReader(b), int64(len(b)), "of.zip", lim); err == nil || bot != nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestDirRefusesSymlink(t *testing.T) {
	tmp := t.TempDir()
	if err := os.CopyFS(tmp, os.DirFS("testdata/orderflowers")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(tmp, "OrderFlowers", "link")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if bot, err := LoadDir(tmp); err == nil || bot != nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzLoadZip(f *testing.F) {
	for _, d := range []string{"support", "orderflowers"} {
		f.Add(zipDir(f, filepath.Join("testdata", d)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bot, err := loadBytes(data)
		if (bot == nil) == (err == nil) {
			t.Fatalf("bot=%v err=%v: want exactly one", bot != nil, err)
		}
	})
}
