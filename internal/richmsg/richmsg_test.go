package richmsg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func meta(id, payload string, kv ...string) chat.Metadata {
	m := chat.Metadata{chat.MetaTemplateID: id, chat.MetaPayload: payload}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestSafeURL(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"https://example.com/a?b=c#d", "https://example.com/a?b=c#d", true},
		{"HTTPS://Example.COM/Path", "https://example.com/Path", true},
		{"  https://example.com  ", "https://example.com", true},
		{"http://localhost:3000/x", "http://localhost:3000/x", true},
		{"http://127.0.0.1/", "http://127.0.0.1/", true},
		{"http://[::1]:8080/", "http://[::1]:8080/", true},
		{"www.google.com", "https://www.google.com", true},
		{"http://evil.com", "", false},
		{"http://localhost.evil.com", "", false},
		{"javascript:alert(1)", "", false},
		{"JaVaScRiPt:alert(1)", "", false},
		{"java\tscript:alert(1)", "", false},
		{"java\nscript:alert(1)", "", false},
		{"\x01javascript:alert(1)", "", false},
		{" javascript:alert(1)", "", false},
		{"javascript%3Aalert(1)", "", false},
		{"vbscript:msgbox(1)", "", false},
		{"data:text/html,<script>alert(1)</script>", "", false},
		{"data:image/png;base64,AAAA", "", false},
		{"file:///etc/passwd", "", false},
		{"//evil.com/x", "", false},
		{"/relative/path", "", false},
		{"relative", "", false},
		{"https:evil.com", "", false},
		{"https:///nohost", "", false},
		{"https://user:pw@example.com", "", false},
		{"https://good.com@evil.com", "", false},
		{"https:\\\\evil.com", "", false},
		{"https://exa mple.com", "", false},
		{"https://exämple.com", "", false},
		{"https://example.com:99999999", "", false},
		{"https://example.com\u2028", "", false},
		{"", "", false},
		{"https://" + strings.Repeat("a", MaxURLLen), "", false},
	}
	for _, c := range cases {
		got, _, err := SafeURL(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("SafeURL(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err == nil {
			again, up, err2 := SafeURL(got)
			if err2 != nil || again != got || up {
				t.Errorf("SafeURL not idempotent on %q: %q %v", got, again, err2)
			}
		}
	}
}

// Valid examples are modelled on Kommunicate's documented JSON.
var validTemplates = []struct {
	name string
	m    chat.Metadata
}{
	{"3 link", meta("3", `[{"type":"link","url":"https://www.google.com","name":"Go To Google"},{"type":"link","url":"https://www.facebook.com","name":"Go To Facebook","openLinkInNewTab":false}]`)},
	{"3 submit", meta("3", `[{"name":"Pay","replyText":"Paying"}]`, "formData", `{"amount":"1000","description":"movie ticket"}`, "formAction", "https://example.com/book", "requestType", "json")},
	{"6", meta("6", `[{"title":"Yes","message":"Cool! send me more."},{"title":"No","message":"Not at all","replyMetadata":{"KM_CHAT_CONTEXT":{"buttonClicked":true}}}]`)},
	{"6 language", meta("6", `[{"title":"Español","updateLanguage":"es-419"}]`)},
	{"6 double encoded", meta("6", `"[{\"title\":\"Yes\"}]"`)},
	{"7", meta("7", `{"headerImgSrc":"https://example.com/h.png","headerText":"Header text.","elements":[{"imgSrc":"https://example.com/t.png","title":"List item 1","description":"Description","action":{"url":"https://www.google.com","type":"link"}},{"title":"Item 2","action":{"type":"quick_reply","text":"send this"}}],"buttons":[{"name":"See us on facebook","action":{"url":"https://www.facebook.com","type":"link"}}]}`)},
	{"8", meta("8", `{"title":"How do I reset?","description":"Go to settings.","buttonLabel":"Was this helpful?","buttons":[{"name":"Yes"},{"name":"No","replyMetadata":{"KM_ASSIGN_TO":""}}]}`)},
	{"9", meta("9", `[{"caption":"Image caption","url":"https://example.com/a.png"}]`)},
	{"10", meta("10", `[{"title":"OYO Rooms 1","subtitle":"Kundanahalli road turn.","header":{"overlayText":"$400","imgSrc":"https://example.com/room.jpg"},"description":"Bharathi Road \n Near Head Post Office","titleExt":"4.2/5","buttons":[{"name":"Link Button","action":{"type":"link","payload":{"url":"https://www.facebook.com"}}},{"name":"Suggested Reply","action":{"type":"quickReply","payload":{"title":"Yes","message":"text will be sent as message","replyMetadata":{"key1":"value1"}}}},{"name":"Submit button","action":{"type":"submit","payload":{"text":"acknowledgement text","formData":{"amount":"$55"},"formAction":"https://example.com/book","requestType":"json"}}}]}]`)},
	{"11", meta("11", `[{"name":"Chat with Experts","action":{"title":"Chat with Experts","message":"Chat with Experts","type":"quickReply"}},{"name":"Site","action":{"url":"https://example.com","openLinkInNewTab":true,"type":"link"}}]`)},
	{"13", meta("13", `[{"name":"Go","action":{"type":"quickReply","payload":{"message":"go"}}}]`)},
	{"12", meta("12", `[{"type":"text","data":{"label":"Name","placeholder":"Enter your name","validation":{"regex":"[A-Za-z0-9]","errorText":"Field is mandatory"}}},{"type":"email","data":{"label":"Email"}},{"type":"radio","data":{"name":"plan","title":"Plan","options":[{"label":"Free","value":"free"},{"label":"Pro","value":"pro"}]}},{"type":"checkbox","data":{"name":"topics","options":[{"label":"A","value":"a"},{"label":"B","value":"b"}]}},{"type":"dropdown","data":{"name":"size","options":[{"label":"S","value":"s"}]}},{"type":"hidden","data":{"name":"src","value":"bot"}},{"type":"date","data":{"label":"When"}},{"type":"number","data":{"label":"Qty"}},{"type":"textarea","data":{"name":"notes","rows":3}},{"type":"submit","data":{"action":{"message":"Form submitted","requestType":"POST","formAction":""},"type":"submit","name":"Submit"}}]`)},
	{"12 flat", meta("12", `[{"type":"text","label":"Name"},{"type":"submit","name":"Send","formAction":"https://example.com/f"}]`)},
	{"14 file", meta("14", `[{"url":"https://example.com/v.mp4","type":"video/mp4","caption":"demo","width":"100%","height":"250px"}]`)},
	{"14 youtube", meta("14", `[{"source":"youtube","url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"}]`)},
	{"14 vimeo", meta("14", `[{"source":"vimeo","url":"https://vimeo.com/76979871"}]`)},
}

func TestValidateValid(t *testing.T) {
	for _, c := range validTemplates {
		t.Run(c.name, func(t *testing.T) {
			clean, _, err := Validate(c.m)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if clean[MetaContentType] != "300" || !json.Valid([]byte(clean[chat.MetaPayload])) {
				t.Fatalf("not canonical: %v", clean)
			}
			// Canonical is a fixed point.
			again, _, err := Validate(clean)
			if err != nil || again[chat.MetaPayload] != clean[chat.MetaPayload] {
				t.Fatalf("canonical form not stable:\n%s\n%s (%v)", clean[chat.MetaPayload], again[chat.MetaPayload], err)
			}
		})
	}
}

func TestValidateCanonicalShapes(t *testing.T) {
	clean, _, _ := Validate(meta("6", `[{"title":"Yes","extra":1}]`))
	if got := clean[chat.MetaPayload]; got != `[{"title":"Yes","message":"Yes"}]` {
		t.Errorf("6: %s", got)
	}
	clean, w, _ := Validate(meta("3", `[{"type":"link","url":"www.google.com","name":"G"}]`))
	if !strings.Contains(clean[chat.MetaPayload], `"https://www.google.com"`) || len(w) != 1 {
		t.Errorf("3 upgrade: %s %v", clean[chat.MetaPayload], w)
	}
	clean, _, _ = Validate(meta("11", `[{"name":"Go","action":{"type":"quick_reply","payload":{"message":"go"}}}]`))
	if got := clean[chat.MetaPayload]; got != `[{"name":"Go","action":{"message":"go","type":"quickReply"}}]` {
		t.Errorf("11: %s", got)
	}
	clean, _, _ = Validate(meta("10", `[{"title":"T","buttons":[{"name":"B","action":{"type":"quick_reply","message":"m"}}]}]`))
	if got := clean[chat.MetaPayload]; got != `[{"title":"T","buttons":[{"name":"B","action":{"payload":{"message":"m"},"type":"quickReply"}}]}]` {
		t.Errorf("10: %s", got)
	}
	clean, _, _ = Validate(meta("14", `[{"source":"youtube","url":"https://youtu.be/dQw4w9WgXcQ"}]`))
	if !strings.Contains(clean[chat.MetaPayload], "https://www.youtube.com/embed/dQw4w9WgXcQ") {
		t.Errorf("14: %s", clean[chat.MetaPayload])
	}
	clean, _, _ = Validate(chat.Metadata{MetaEnableAttachment: "TRUE", "custom": "kept"})
	if clean[MetaEnableAttachment] != "true" || clean["custom"] != "kept" {
		t.Errorf("control: %v", clean)
	}
}

func TestValidateInvalid(t *testing.T) {
	long := strings.Repeat("x", MaxLabelLen+1)
	many := func(n int, item string) string {
		s := make([]string, n)
		for i := range s {
			s[i] = item
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	cases := []struct {
		name, field string
		m           chat.Metadata
	}{
		{"unknown template", "templateId", meta("99", `[]`)},
		{"no payload", "payload", chat.Metadata{"templateId": "6"}},
		{"not json", "payload", meta("6", `[{title:"x"}]`)},
		{"python repr", "payload", meta("6", `[{'title': 'x'}]`)},
		{"wrong shape", "payload", meta("6", `{"title":"x"}`)},
		{"wrong type", "payload.title", meta("6", `[{"title":5}]`)},
		{"payload without template", "templateId", chat.Metadata{"payload": `[{"title":"x"}]`}},
		{"3 empty", "payload", meta("3", `[]`)},
		{"3 too many", "payload", meta("3", many(MaxButtons+1, `{"name":"a"}`))},
		{"3 js url", "payload[0].url", meta("3", `[{"type":"link","name":"x","url":"javascript:alert(1)"}]`)},
		{"3 no url", "payload[0].url", meta("3", `[{"type":"link","name":"x"}]`)},
		{"3 no name", "payload[0].name", meta("3", `[{"type":"link","url":"https://a.com"}]`)},
		{"3 bad type", "payload[0].type", meta("3", `[{"type":"script","name":"x"}]`)},
		{"3 formAction", "formAction", meta("3", `[{"name":"x"}]`, "formAction", "http://evil.com")},
		{"3 formData", "formData", meta("3", `[{"name":"x"}]`, "formData", "nope")},
		{"3 requestType", "requestType", meta("3", `[{"name":"x"}]`, "requestType", "GET")},
		{"6 too many", "payload", meta("6", many(MaxQuickReplies+1, `{"title":"a"}`))},
		{"6 no title", "payload[0].title", meta("6", `[{"message":"a"}]`)},
		{"6 long title", "payload[0].title", meta("6", `[{"title":"`+long+`"}]`)},
		{"6 control char", "payload[0].title", meta("6", `[{"title":"a\u0000b"}]`)},
		{"6 bad language", "payload[0].updateLanguage", meta("6", `[{"title":"a","updateLanguage":"not a tag"}]`)},
		{"7 empty", "payload", meta("7", `{"headerText":"h"}`)},
		{"7 data header", "payload.headerImgSrc", meta("7", `{"headerImgSrc":"data:image/png;base64,AA","elements":[{"title":"a"}]}`)},
		{"7 element title", "payload.elements[0].title", meta("7", `{"elements":[{"description":"d"}]}`)},
		{"7 action type", "payload.buttons[0].action.type", meta("7", `{"buttons":[{"name":"n","action":{"type":"eval"}}]}`)},
		{"7 link url", "payload.elements[0].action.url", meta("7", `{"elements":[{"title":"a","action":{"type":"link","url":"//evil"}}]}`)},
		{"8 empty", "payload", meta("8", `{"buttons":[]}`)},
		{"8 button name", "payload.buttons[0].name", meta("8", `{"title":"q","buttons":[{}]}`)},
		{"9 empty", "payload", meta("9", `[]`)},
		{"9 http", "payload[0].url", meta("9", `[{"url":"http://evil.com/a.png"}]`)},
		{"10 too many cards", "payload", meta("10", many(MaxCards+1, `{"title":"a"}`))},
		{"10 no title or image", "payload[0]", meta("10", `[{"subtitle":"s"}]`)},
		{"10 too many buttons", "payload[0].buttons", meta("10", `[{"title":"a","buttons":`+many(MaxButtons+1, `{"name":"b","action":{"type":"quickReply"}}`)+`}]`)},
		{"10 no action", "payload[0].buttons[0].action", meta("10", `[{"title":"a","buttons":[{"name":"b"}]}]`)},
		{"10 vbscript", "payload[0].buttons[0].action.url", meta("10", `[{"title":"a","buttons":[{"name":"b","action":{"type":"link","payload":{"url":"vbscript:x"}}}]}]`)},
		{"10 submit formAction", "payload[0].buttons[0].action.formAction", meta("10", `[{"title":"a","buttons":[{"name":"b","action":{"type":"submit","payload":{"formAction":"javascript:x"}}}]}]`)},
		{"10 card url", "payload[0].url", meta("10", `[{"title":"a","url":"JaVaScRiPt:alert(1)"}]`)},
		{"11 empty", "payload", meta("11", `[]`)},
		{"11 no name", "payload[0].name", meta("11", `[{"action":{"type":"quickReply","message":"m"}}]`)},
		{"13 bad link", "payload[0].action.url", meta("13", `[{"name":"n","action":{"type":"link","url":"data:text/html,x"}}]`)},
		{"12 no submit", "payload", meta("12", `[{"type":"text","data":{"label":"a"}}]`)},
		{"12 bad type", "payload[0].type", meta("12", `[{"type":"password","data":{"label":"a"}}]`)},
		{"12 no key", "payload[0].data.name", meta("12", `[{"type":"text","data":{}},{"type":"submit","data":{"name":"s"}}]`)},
		{"12 duplicate", "payload[1].data.name", meta("12", `[{"type":"text","data":{"label":"a"}},{"type":"email","data":{"label":"a"}},{"type":"submit","data":{"name":"s"}}]`)},
		{"12 no options", "payload[0].data.options", meta("12", `[{"type":"radio","data":{"name":"r"}},{"type":"submit","data":{"name":"s"}}]`)},
		{"12 long regex", "payload[0].data.validation.regex", meta("12", `[{"type":"text","data":{"label":"a","validation":{"regex":"`+strings.Repeat("a", MaxRegexLen+1)+`"}}},{"type":"submit","data":{"name":"s"}}]`)},
		{"12 submit action", "payload[0].data.action.formAction", meta("12", `[{"type":"submit","data":{"name":"s","action":{"formAction":"javascript:x"}}}]`)},
		{"14 empty", "payload", meta("14", `[]`)},
		{"14 css size", "payload[0].width", meta("14", `[{"url":"https://a.com/v.mp4","width":"100%;background:url(x)"}]`)},
		{"14 foreign embed", "payload[0].url", meta("14", `[{"source":"youtube","url":"https://evil.com/embed/abcdefgh"}]`)},
		{"14 bad source", "payload[0].source", meta("14", `[{"source":"dailymotion","url":"https://a.com/v"}]`)},
		{"14 bad mime", "payload[0].type", meta("14", `[{"url":"https://a.com/v","type":"text/html"}]`)},
		{"actionRequest", "actionRequest", chat.Metadata{"actionRequest": "dropTables"}},
		{"assign team empty", "KM_ASSIGN_TEAM", chat.Metadata{"KM_ASSIGN_TEAM": ""}},
		{"assign to spaces", "KM_ASSIGN_TO", chat.Metadata{"KM_ASSIGN_TO": "a b"}},
		{"attachment", "KM_ENABLE_ATTACHMENT", chat.Metadata{"KM_ENABLE_ATTACHMENT": "maybe"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Validate(c.m)
			if err == nil {
				t.Fatal("accepted")
			}
			e, ok := err.(*chat.Error)
			if !ok || e.Code != chat.CodeInvalid || e.Details["field"] != c.field {
				t.Fatalf("err = %v (field %v), want field %q", err, e.Details["field"], c.field)
			}
		})
	}
}

func TestValidateControlKeysPass(t *testing.T) {
	for _, m := range []chat.Metadata{
		{"KM_ASSIGN_TO": ""}, {"KM_ASSIGN_TO": "agent@example.com"}, {"KM_ASSIGN_TEAM": "team-1"},
		{"actionRequest": "resolveConversation"}, {"actionRequest": "askCSAT"}, {"actionRequest": "fetchAgentAvailability"},
		{"KM_ENABLE_ATTACHMENT": "false"},
	} {
		if _, _, err := Validate(m); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
}

func TestValidateDoesNotModifyInput(t *testing.T) {
	m := meta("6", `[{"title":"Yes","extra":true}]`)
	before := m[chat.MetaPayload]
	if _, _, err := Validate(m); err != nil || m[chat.MetaPayload] != before || m[MetaContentType] != "" {
		t.Fatalf("input changed: %v %v", m, err)
	}
}
