package richmsg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestParseEnvelope(t *testing.T) {
	for _, raw := range []string{
		`{"platform":"kommunicate","message":"Pick","metadata":{"contentType":"300","templateId":"6","payload":[{"title":"Yes"}]}}`,
		`{"message":"Pick","metadata":{"templateId":6,"payload":"[{\"title\":\"Yes\"}]"}}`,
	} {
		e, err := ParseEnvelope([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		r, w := e.Reply()
		if r.Text != "Pick" || r.Metadata["templateId"] != "6" || r.Metadata["payload"] != `[{"title":"Yes","message":"Yes"}]` || len(w) != 0 {
			t.Errorf("%s: %+v %v", raw, r, w)
		}
	}
	for _, raw := range []string{``, `[]`, `{"platform":"facebook"}`, `{"message":5}`, `{"metadata":[1]}`, `not json`} {
		if _, err := ParseEnvelope([]byte(raw)); err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

func TestNormalizeDegrades(t *testing.T) {
	cases := []struct {
		name, text string
		m          chat.Metadata
		wantText   string
		wantWarn   string
	}{
		{"invalid keeps text", "Choose", meta("6", `[{"message":"x"}]`), "Choose", "payload[0].title: is required"},
		{"fallback from titles", "", meta("10", `[{"title":"Room A","buttons":[{"name":"Book","action":{"type":"link","payload":{"url":"javascript:x"}}}]},{"title":"Room B"}]`), "• Room A\n• Book\n• Room B", "javascript"},
		{"not json shown as text", "", meta("6", `Yes or no?`), "Yes or no?", "not valid JSON"},
		{"unknown template", "hi", meta("42", `[]`), "hi", "templateId \"42\""},
		{"nothing readable", "", meta("9", `[{"url":"data:x"}]`), Unshowable, "templateId 9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.m["KM_ASSIGN_TO"] = ""
			r, w := Normalize(c.text, c.m)
			if r.Text != c.wantText {
				t.Errorf("text = %q, want %q", r.Text, c.wantText)
			}
			if _, ok := r.Metadata["templateId"]; ok {
				t.Errorf("templateId kept: %v", r.Metadata)
			}
			if _, ok := r.Metadata["payload"]; ok {
				t.Errorf("payload kept")
			}
			if v, ok := r.Metadata["KM_ASSIGN_TO"]; !ok || v != "" {
				t.Errorf("control key lost: %v", r.Metadata)
			}
			if !strings.Contains(strings.Join(w, "|"), c.wantWarn) {
				t.Errorf("warnings %q lack %q", w, c.wantWarn)
			}
		})
	}
}

func TestNormalizeDropsBadControlKey(t *testing.T) {
	r, w := Normalize("ok", chat.Metadata{"actionRequest": "nuke", "KM_ASSIGN_TEAM": "sales"})
	if _, ok := r.Metadata["actionRequest"]; ok || r.Metadata["KM_ASSIGN_TEAM"] != "sales" || len(w) != 1 {
		t.Fatalf("%+v %v", r, w)
	}
}

func TestFromCustomPayload(t *testing.T) {
	r, w := FromCustomPayload(`not json at all`)
	if r.Text != "not json at all" || len(w) != 1 {
		t.Fatalf("%+v %v", r, w)
	}
	r, w = FromCustomPayload(`{"platform":"kommunicate","message":"","metadata":{"KM_ASSIGN_TO":"","templateId":"6","payload":[{"title":"A"}]}}`)
	if r.Metadata["templateId"] != "6" || len(w) != 0 {
		t.Fatalf("%+v %v", r, w)
	}
}

func mustClean(t *testing.T, m chat.Metadata) chat.Metadata {
	t.Helper()
	c, _, err := Validate(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClickToMessage(t *testing.T) {
	qr := mustClean(t, meta("6", `[{"title":"Yes","message":"Cool","replyMetadata":{"k":"v","KM_CLICKED":"spoof"}},{"title":"Español","updateLanguage":"es"}]`))
	got, err := ClickToMessage(qr, Click{Path: "/0"})
	if err != nil || got.Text != "Cool" || got.Metadata["k"] != "v" || got.Metadata[MetaClicked] != "Yes" || got.Metadata[MetaClickedPath] != "/0" {
		t.Fatalf("%+v %v", got, err)
	}
	got, _ = ClickToMessage(qr, Click{Path: "/1"})
	if got.Language != "es" || got.Text != "Español" {
		t.Fatalf("language: %+v", got)
	}
	for _, p := range []string{"/2", "/01", "/-1", "0", "/0/x", "", "/a"} {
		if _, err := ClickToMessage(qr, Click{Path: p}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if _, err := ClickToMessage(qr, Click{Path: "/0", Values: map[string][]string{"a": {"b"}}}); err == nil {
		t.Error("values on a quick reply accepted")
	}

	cards := mustClean(t, validTemplates[8].m)
	got, err = ClickToMessage(cards, Click{Path: "/0/buttons/1"})
	if err != nil || got.Text != "text will be sent as message" || got.Metadata["key1"] != "value1" {
		t.Fatalf("card reply: %+v %v", got, err)
	}
	got, _ = ClickToMessage(cards, Click{Path: "/0/buttons/0"})
	if got.Link != "https://www.facebook.com" || got.Text != "" {
		t.Fatalf("card link: %+v", got)
	}
	got, _ = ClickToMessage(cards, Click{Path: "/0/buttons/2"})
	if got.Text != "acknowledgement text" || !strings.Contains(got.Metadata[MetaButtonData], "$55") {
		t.Fatalf("card submit: %+v", got)
	}

	list := mustClean(t, validTemplates[5].m)
	got, _ = ClickToMessage(list, Click{Path: "/elements/1"})
	if got.Text != "send this" {
		t.Fatalf("list: %+v", got)
	}
	if _, err := ClickToMessage(list, Click{Path: "/buttons/3"}); err == nil {
		t.Fatal("missing list button accepted")
	}
	if _, err := ClickToMessage(mustClean(t, validTemplates[7].m), Click{Path: "/0"}); err == nil {
		t.Fatal("image click accepted")
	}
}

func TestClickFormSubmit(t *testing.T) {
	form := mustClean(t, validTemplates[11].m)
	ok := map[string][]string{"Name": {"Ann"}, "Email": {"ann@example.com"}, "plan": {"pro"}, "topics": {"a", "b"}, "src": {"forged"}, "When": {"2024-02-29"}, "Qty": {"3"}}
	got, err := ClickToMessage(form, Click{Path: "/9", Values: ok})
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if json.Unmarshal([]byte(got.Metadata[MetaFormValues]), &data) != nil || data["src"] != "bot" || data["Name"] != "Ann" || got.Text != "Form submitted" {
		t.Fatalf("%+v", got)
	}
	bad := []map[string][]string{
		{"Name": {""}},                       // regex [A-Za-z0-9] makes it required
		{"Name": {"A"}, "Email": {"nope"}},   // email
		{"Name": {"A"}, "plan": {"gold"}},    // not an option
		{"Name": {"A"}, "Qty": {"many"}},     // number
		{"Name": {"A"}, "When": {"31/12"}},   // date
		{"Name": {"A"}, "ghost": {"x"}},      // unknown field
		{"Name": {"A", "B"}},                 // two values for a text field
		{"Name": {"A"}, "notes": {"a\x00b"}}, // control character
	}
	for _, v := range bad {
		if _, err := ClickToMessage(form, Click{Path: "/9", Values: v}); err == nil {
			t.Errorf("%v accepted", v)
		}
	}
	if _, err := ClickToMessage(form, Click{Path: "/0", Values: ok}); err == nil {
		t.Error("click on a text field accepted as submit")
	}
}

func TestFromLexCard(t *testing.T) {
	var bs []LexButton
	for _, v := range []string{"one", "two", "three", "four", "five", "six"} {
		bs = append(bs, LexButton{Text: strings.ToUpper(v), Value: v})
	}
	m, w := FromLexCard("Pizza", "Pick a size", "https://example.com/p.png", bs)
	if len(w) != 1 {
		t.Fatalf("warnings %v", w)
	}
	clean, _, err := Validate(m)
	if err != nil || clean[chat.MetaPayload] != m[chat.MetaPayload] {
		t.Fatalf("not canonical: %v\n%s\n%s", err, m[chat.MetaPayload], clean[chat.MetaPayload])
	}
	var cards []Card
	_ = json.Unmarshal([]byte(m[chat.MetaPayload]), &cards)
	if len(cards) != 1 || len(cards[0].Buttons) != MaxLexButtons {
		t.Fatalf("%+v", cards)
	}
	got, err := ClickToMessage(m, Click{Path: "/0/buttons/4"})
	if err != nil || got.Text != "five" || got.Metadata[MetaClicked] != "FIVE" {
		t.Fatalf("%+v %v", got, err)
	}
	m, w = FromLexCard("T", "", "javascript:alert(1)", nil)
	if strings.Contains(m[chat.MetaPayload], "javascript") || len(w) != 1 {
		t.Fatalf("%v %v", m, w)
	}
	if _, _, err := Validate(m); err != nil {
		t.Fatal(err)
	}
}
