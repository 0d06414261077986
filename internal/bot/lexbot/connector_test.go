package lexbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

const (
	testKeyID  = "AKIATESTKEY0000001"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
	testBotID  = "ABCDEFGHIJ"
	testAlias  = "TSTALIASID"
	testRegion = "eu-west-2"
	convID     = "01jd3k5m7n9p1q3r5s7t9v1w3x"
)

func settingsFor(endpoint string, edit ...func(*Settings)) Settings {
	s := Settings{
		Region: testRegion, BotID: testBotID, BotAliasID: testAlias,
		AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		Endpoint: endpoint, Locales: []string{"en_US", "es_419", "pt_BR"},
	}
	for _, e := range edit {
		e(&s)
	}
	return s
}

func turnFor(t testing.TB, s Settings, text string) bot.Turn {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	tn := bot.Turn{
		AppID: "app1", ConversationID: convID,
		Bot:     &chat.Bot{ID: "bot1", AppID: "app1", Type: chat.BotLex, Settings: raw, AutoHandoff: true},
		Contact: &chat.Contact{ID: "c1", AppID: "app1", Language: "en-US"},
	}
	if text != "" {
		tn.Message = &chat.Message{ID: "m1", Text: text, Sender: chat.Sender{Type: chat.SenderContact, ID: "c1"}}
	}
	return tn
}

// logBuf collects log output so tests can check the secret stays out.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type harness struct {
	conn *Connector
	reg  *prometheus.Registry
	logs *logBuf
}

func newHarness(opts ...func(*Options)) harness {
	h := harness{reg: prometheus.NewRegistry(), logs: &logBuf{}}
	o := Options{Registerer: h.reg, Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range opts {
		f(&o)
	}
	h.conn = New(o)
	return h
}

func (h harness) turn(t *testing.T, tn bot.Turn, state json.RawMessage) bot.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := h.conn.Turn(ctx, tn, state)
	if err != nil {
		t.Fatalf("Turn: %v", err)
	}
	if strings.Contains(h.logs.String(), testSecret) {
		t.Fatal("the secret appeared in the log")
	}
	return res
}

func TestWelcomeAndRequestShape(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	s := settingsFor(lex.URL)

	for _, tc := range []struct{ event, want string }{
		{bot.EventWelcome, "kmConversationStarted"},
		{"startOrderFlow", "startOrderFlow"},
	} {
		tn := turnFor(t, s, "")
		tn.Event = tc.event
		res := h.turn(t, tn, nil)
		got := lex.Last(t)
		if got.Text != tc.want {
			t.Errorf("event %q sent text %q, want %q", tc.event, got.Text, tc.want)
		}
		if got.Bot != testBotID || got.Alias != testAlias || got.Locale != "en_US" || got.Session != convID {
			t.Errorf("path = %s/%s/%s/%s", got.Bot, got.Alias, got.Locale, got.Session)
		}
		if got.Scope != (lextest.Scope{Algorithm: "AWS4-HMAC-SHA256", KeyID: testKeyID, Date: got.Scope.Date, Region: testRegion, Service: "lex", Terminator: "aws4_request"}) {
			t.Errorf("SigV4 scope = %+v", got.Scope)
		}
		if !regexp.MustCompile(`^\d{8}$`).MatchString(got.Scope.Date) || !strings.Contains(got.SignedHeaders, "host") {
			t.Errorf("SigV4 date %q, signed headers %q", got.Scope.Date, got.SignedHeaders)
		}
		if len(res.Replies) != 1 || res.Replies[0].Text != "Hello!" || res.Intent != "Greeting" || res.GaveUp {
			t.Errorf("result = %+v", res)
		}
		if len(res.State) == 0 {
			t.Error("no state kept")
		}
	}
}

func TestRepliesInOrder(t *testing.T) {
	quick := `{"platform":"kommunicate","message":"Pick one","metadata":{"templateId":"6","payload":[{"title":"Yes","message":"yes"},{"title":"No","message":"no"}]}}`
	msgs, _ := json.Marshal([]map[string]any{
		{"content": "Plain first", "contentType": "PlainText"},
		{"content": `<speak>Your order <emphasis>ships</emphasis> today.<break time="1s"/>Fish &amp; chips &lt;3</speak>`, "contentType": "SSML"},
		{"contentType": "ImageResponseCard", "imageResponseCard": map[string]any{
			"title": "Sizes", "subtitle": "Choose", "imageUrl": "https://example.com/s.png",
			"buttons": []map[string]string{{"text": "Small", "value": "small please"}, {"text": "Large", "value": "large"}}}},
		{"content": quick, "contentType": "CustomPayload"},
		{"content": "Plain last", "contentType": "PlainText"},
	})
	intent := `{"confirmationState":"None","name":"OrderPizza","slots":{"Size":null,"Crust":{"value":{"interpretedValue":"thin","originalValue":"thin","resolvedValues":["thin"]}}},"state":"InProgress"}`
	body := lextest.Response{Messages: string(msgs), Intent: intent, DialogAction: `{"slotToElicit":"Size","type":"ElicitSlot"}`, SessionAttributes: `{"k":"v"}`}.Body()
	srv := lextest.New(t, lextest.Answer{Body: body})
	h := newHarness()
	res := h.turn(t, turnFor(t, settingsFor(srv.URL), "I want pizza"), nil)

	if len(res.Replies) != 5 {
		t.Fatalf("%d replies, want 5: %+v", len(res.Replies), res.Replies)
	}
	if r := res.Replies[0]; r.Text != "Plain first" || r.Metadata != nil {
		t.Errorf("reply 1 = %+v", r)
	}
	if r := res.Replies[1]; r.Text != "Your order ships today. Fish & chips <3" {
		t.Errorf("SSML reply = %q", r.Text)
	}
	card := res.Replies[2]
	if card.Metadata[chat.MetaTemplateID] != "10" {
		t.Fatalf("card metadata = %v", card.Metadata)
	}
	var cards []struct {
		Title, Subtitle string
		Header          struct{ ImgSrc string }
		Buttons         []struct {
			Name   string
			Action struct {
				Type    string
				Payload struct{ Message string }
			}
		}
	}
	if err := json.Unmarshal([]byte(card.Metadata[chat.MetaPayload]), &cards); err != nil || len(cards) != 1 {
		t.Fatalf("card payload %s: %v", card.Metadata[chat.MetaPayload], err)
	}
	if c := cards[0]; c.Title != "Sizes" || c.Subtitle != "Choose" || c.Header.ImgSrc != "https://example.com/s.png" ||
		len(c.Buttons) != 2 || c.Buttons[0].Name != "Small" || c.Buttons[0].Action.Payload.Message != "small please" || c.Buttons[0].Action.Type != "quickReply" {
		t.Errorf("card = %+v", c)
	}
	if r := res.Replies[3]; r.Text != "Pick one" || r.Metadata[chat.MetaTemplateID] != "6" {
		t.Errorf("custom payload reply = %+v", r)
	}
	if r := res.Replies[4]; r.Text != "Plain last" {
		t.Errorf("reply 5 = %+v", r)
	}
	if res.Intent != "OrderPizza" || res.GaveUp {
		t.Errorf("intent %q gaveUp %v", res.Intent, res.GaveUp)
	}
	var st state
	if err := json.Unmarshal(res.State, &st); err != nil || st.SessionAttributes["k"] != "v" {
		t.Errorf("state %s: %v", res.State, err)
	}
}

func TestCustomPayloadControlKeys(t *testing.T) {
	cases := []struct {
		name, payload string
		want          chat.Metadata
	}{
		{"assign to routing", `{"platform":"kommunicate","message":"Connecting you","metadata":{"KM_ASSIGN_TO":""}}`, chat.Metadata{chat.MetaAssignTo: ""}},
		{"assign to agent", `{"platform":"kommunicate","message":"Vera will help","metadata":{"KM_ASSIGN_TO":"vera@example.com"}}`, chat.Metadata{chat.MetaAssignTo: "vera@example.com"}},
		{"assign team", `{"message":"Billing will help","metadata":{"KM_ASSIGN_TEAM":"team42"}}`, chat.Metadata{chat.MetaAssignTeam: "team42"}},
		{"action", `{"message":"Done","metadata":{"actionRequest":"resolveConversation"}}`, chat.Metadata{richmsg.MetaActionRequest: "resolveConversation"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, _ := json.Marshal([]map[string]string{{"content": tc.payload, "contentType": "CustomPayload"}})
			srv := lextest.New(t, lextest.Answer{Body: lextest.Response{Messages: string(msgs)}.Body()})
			res := newHarness().turn(t, turnFor(t, settingsFor(srv.URL), "human please"), nil)
			if len(res.Replies) != 1 {
				t.Fatalf("replies = %+v", res.Replies)
			}
			got := res.Replies[0].Metadata
			for k, v := range tc.want {
				if gv, ok := got[k]; !ok || gv != v {
					t.Errorf("metadata[%s] = %q (present %v), want %q", k, gv, ok, v)
				}
			}
			if trig, ok := chat.HandoffTrigger(got); (tc.name != "action") != ok {
				t.Errorf("handoff trigger = %+v, %v", trig, ok)
			}
		})
	}
}

func TestPayloadNotJSON(t *testing.T) {
	msgs, _ := json.Marshal([]map[string]string{{"content": "{not json, sorry", "contentType": "CustomPayload"}})
	srv := lextest.New(t, lextest.Answer{Body: lextest.Response{Messages: string(msgs)}.Body()})
	res := newHarness().turn(t, turnFor(t, settingsFor(srv.URL), "hi"), nil)
	if len(res.Replies) != 1 || res.Replies[0].Text != "{not json, sorry" || res.Replies[0].Metadata[chat.MetaTemplateID] != "" {
		t.Fatalf("replies = %+v", res.Replies)
	}
	if !containsWarning(res.Warnings, "custom payload was shown as text") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestAbsentIntentAndMessages(t *testing.T) {
	srv := lextest.New(t, lextest.Answer{Body: `{"sessionId":"s","sessionState":{"sessionAttributes":{}}}`})
	res := newHarness().turn(t, turnFor(t, settingsFor(srv.URL), "hello?"), nil)
	if len(res.Replies) != 0 || res.Intent != "" || res.GaveUp || len(res.Warnings) != 0 {
		t.Errorf("result = %+v", res)
	}
	// Only interpretations: the intent comes from the best one.
	srv2 := lextest.New(t, lextest.Answer{Body: lextest.Response{Interpretations: `[{"intent":{"name":"CheckBalance","slots":{"Account":null},"state":"InProgress"},"nluConfidence":{"score":0.8}}]`}.Body()})
	if res := newHarness().turn(t, turnFor(t, settingsFor(srv2.URL), "balance"), nil); res.Intent != "CheckBalance" {
		t.Errorf("intent = %q", res.Intent)
	}
}

func TestCloseFailedGivesUp(t *testing.T) {
	body := lextest.Response{Messages: `[{"content":"Sorry, I could not help you with that.","contentType":"PlainText"}]`, Intent: `{"confirmationState":"None","name":"OrderFlowers","slots":{"FlowerType":null},"state":"Failed"}`, DialogAction: `{"type":"Close"}`}.Body()
	srv := lextest.New(t, lextest.Answer{Body: body})
	h := newHarness()
	res := h.turn(t, turnFor(t, settingsFor(srv.URL), "blah"), nil)
	if !res.GaveUp || res.Intent != "OrderFlowers" || len(res.Replies) != 1 || res.Replies[0].Text != "Sorry, I could not help you with that." {
		t.Errorf("result = %+v", res)
	}
	if v := testutil.ToFloat64(h.conn.metrics.giveUps.WithLabelValues("bot1", reasonFailedIntent)); v != 1 {
		t.Errorf("give-up metric = %v", v)
	}
	// Failed without Close (Lex still talking) is not a give-up.
	body = lextest.Response{Messages: `[{"content":"Try again","contentType":"PlainText"}]`, Intent: `{"name":"OrderFlowers","slots":{},"state":"Failed"}`, DialogAction: `{"type":"ElicitIntent"}`}.Body()
	srv2 := lextest.New(t, lextest.Answer{Body: body})
	if res := h.turn(t, turnFor(t, settingsFor(srv2.URL), "blah"), nil); res.GaveUp {
		t.Error("Failed with ElicitIntent counted as a give-up")
	}
}

var fallbackBody = lextest.Response{Messages: `[{"content":"Sorry, can you rephrase?","contentType":"PlainText"}]`, Intent: `{"name":"FallbackIntent","slots":{},"state":"ReadyForFulfillment","confirmationState":"None"}`, DialogAction: `{"type":"ElicitIntent"}`}.Body()

func TestConsecutiveFallbacks(t *testing.T) {
	lex := lextest.New(t, lextest.Answer{Body: fallbackBody})
	h := newHarness()
	run := func(s Settings, answers []lextest.Answer) []bool {
		lex.Script(answers...)
		var state json.RawMessage
		var gave []bool
		for range answers {
			res := h.turn(t, turnFor(t, s, "gibberish"), state)
			state = res.State
			gave = append(gave, res.GaveUp)
		}
		return gave
	}
	fb, ok := lextest.Answer{Body: fallbackBody}, lextest.Answer{Body: lextest.OK}
	zero, one := 0, 1
	cases := []struct {
		name    string
		limit   *int
		answers []lextest.Answer
		want    []bool
	}{
		{"default 2: the third gives up", nil, []lextest.Answer{fb, fb, fb, fb}, []bool{false, false, true, false}},
		{"a real intent resets the count", nil, []lextest.Answer{fb, fb, ok, fb, fb, fb}, []bool{false, false, false, false, false, true}},
		{"limit 1", &one, []lextest.Answer{fb, fb}, []bool{false, true}},
		{"0 turns the rule off", &zero, []lextest.Answer{fb, fb, fb, fb, fb}, []bool{false, false, false, false, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(settingsFor(lex.URL, func(s *Settings) { s.MaxConsecutiveFallbacks = tc.limit }), tc.answers)
			if !slices.Equal(got, tc.want) {
				t.Errorf("gave up = %v, want %v", got, tc.want)
			}
		})
	}
	if v := testutil.ToFloat64(h.conn.metrics.fallbacks.WithLabelValues("bot1")); v != 16 {
		t.Errorf("fallback metric = %v, want 16", v)
	}
	if v := testutil.ToFloat64(h.conn.metrics.giveUps.WithLabelValues("bot1", reasonFallbacks)); v != 3 {
		t.Errorf("give-up metric = %v, want 3", v)
	}
}

func TestHandoffAttribute(t *testing.T) {
	for _, tc := range []struct {
		name, setting, attrs string
		want                 bool
	}{
		{"default name", "", `{"handoff":"true","order":"42"}`, true},
		{"case and spaces", "", `{"handoff":" TRUE "}`, true},
		{"false", "", `{"handoff":"false"}`, false},
		{"custom name", "needHuman", `{"needHuman":"true"}`, true},
		{"custom name ignores default", "needHuman", `{"handoff":"true"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lex := lextest.New(t, lextest.Answer{Body: lextest.Response{Messages: `[{"content":"Let me get someone","contentType":"PlainText"}]`, SessionAttributes: tc.attrs}.Body()}, lextest.Answer{Body: lextest.OK})
			h := newHarness()
			s := settingsFor(lex.URL, func(s *Settings) { s.HandoffAttribute = tc.setting })
			res := h.turn(t, turnFor(t, s, "agent"), nil)
			if res.GaveUp != tc.want || len(res.Replies) != 1 {
				t.Fatalf("gaveUp = %v, want %v; replies %+v", res.GaveUp, tc.want, res.Replies)
			}
			// After a hand-back the flag must not hand off again at once.
			h.turn(t, turnFor(t, s, "back again"), res.State)
			sent := lex.Last(t).SessionAttributes
			if _, still := sent[s.Attribute()]; tc.want && still {
				t.Errorf("next turn sent %v", sent)
			}
			if !tc.want && !maps.Equal(sent, decodeAttrs(t, tc.attrs)) {
				t.Errorf("next turn sent %v, want what Lex returned", sent)
			}
		})
	}
}

func TestLocaleInPath(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	for _, tc := range []struct{ lang, contactLang, want string }{
		{"pt-BR", "", "pt_BR"},
		{"es-MX", "", "es_419"},
		{"", "es-419", "es_419"},
		{"de-DE", "", "en_US"},
	} {
		tn := turnFor(t, settingsFor(lex.URL), "hola")
		tn.Language, tn.Contact.Language = tc.lang, tc.contactLang
		h.turn(t, tn, nil)
		if got := lex.Last(t).Locale; got != tc.want {
			t.Errorf("language %q/%q used locale %s, want %s", tc.lang, tc.contactLang, got, tc.want)
		}
	}
}

func TestAttachmentsAndLocation(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	tn := turnFor(t, settingsFor(lex.URL), "")
	tn.Event = bot.EventMedia
	tn.Message = &chat.Message{ID: "m2", ContentType: chat.ContentAttachment, Attachments: []chat.Attachment{
		{UploadID: "up1", Name: "receipt.pdf", MimeType: "application/pdf", Size: 12345},
		{UploadID: "up2", Name: "photo.jpg", MimeType: "image/jpeg", Size: 678},
	}}
	tn.FileURLs = map[string]string{"up1": "https://sb.example.com/files/up1?sig=abc&exp=1", "up2": "https://sb.example.com/files/up2?sig=def"}
	res := h.turn(t, tn, nil)
	got := lex.Last(t)
	if got.Text != "kommunicateMediaEvent" {
		t.Errorf("text = %q", got.Text)
	}
	want := `[{"type":"application/pdf","payload":{"name":"receipt.pdf","size":12345,"url":"https://sb.example.com/files/up1?sig=abc\u0026exp=1"}},` +
		`{"type":"image/jpeg","payload":{"name":"photo.jpg","size":678,"url":"https://sb.example.com/files/up2?sig=def"}}]`
	if got.RequestAttributes["attachments"] != want {
		t.Errorf("attachments =\n%s\nwant\n%s", got.RequestAttributes["attachments"], want)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings = %q", res.Warnings)
	}

	// A location, sent without an explicit event.
	tn = turnFor(t, settingsFor(lex.URL), "")
	tn.Message = &chat.Message{ID: "m3", ContentType: chat.ContentLocation, Location: &chat.Location{Lat: 52.52, Lon: -13.405}}
	h.turn(t, tn, nil)
	got = lex.Last(t)
	if got.Text != "kommunicateMediaEvent" || got.RequestAttributes["attachments"] != `[{"type":"location","payload":{"lat":52.52,"lon":-13.405}}]` {
		t.Errorf("location sent %q %v", got.Text, got.RequestAttributes)
	}

	// A file without a signed URL still goes, and the owner is told.
	tn = turnFor(t, settingsFor(lex.URL), "")
	tn.Event = bot.EventMedia
	tn.Message = &chat.Message{ID: "m4", Attachments: []chat.Attachment{{UploadID: "gone", Name: "x.txt", MimeType: "text/plain", Size: 1}}}
	res = h.turn(t, tn, nil)
	if !containsWarning(res.Warnings, "no download URL") || !strings.Contains(lex.Last(t).RequestAttributes["attachments"], `"name":"x.txt"`) {
		t.Errorf("warnings %q, sent %v", res.Warnings, lex.Last(t).RequestAttributes)
	}
	// Ordinary text carries no request attributes.
	h.turn(t, turnFor(t, settingsFor(lex.URL), "plain"), nil)
	if ra := lex.Last(t).RequestAttributes; ra != nil {
		t.Errorf("text turn sent request attributes %v", ra)
	}
}

func TestLongMessageTruncated(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	// Multi-byte words, so that a byte-based cut would be caught.
	var b strings.Builder
	for i := 0; utf8.RuneCountInString(b.String()) < 1500; i++ {
		b.WriteString("größe ")
	}
	long := strings.TrimSpace(b.String())
	res := h.turn(t, turnFor(t, settingsFor(lex.URL), long), nil)
	sent := lex.Last(t).Text
	n := utf8.RuneCountInString(sent)
	if n > 1024 || n < 1000 {
		t.Fatalf("sent %d runes", n)
	}
	if !strings.HasPrefix(long, sent) || !strings.HasSuffix(sent, "größe") || long[len(sent)] != ' ' {
		t.Errorf("not cut at a word boundary: ...%q", sent[len(sent)-20:])
	}
	if !containsWarning(res.Warnings, "cut at a word boundary") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestTruncateWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly ten", 11, "exactly ten", false},
		{"hello world", 8, "hello", true},
		{"hello world", 6, "hello", true},
		{"hello world", 5, "hello", true},
		{"helloworld", 5, "hello", true},
		{"ab  cd", 3, "ab", true},
		{"日本語 テキスト", 6, "日本語", true},
	} {
		got, cut := truncateWords(tc.in, tc.n)
		if got != tc.want || cut != tc.cut {
			t.Errorf("truncateWords(%q, %d) = %q, %v; want %q, %v", tc.in, tc.n, got, cut, tc.want, tc.cut)
		}
	}
}

func TestChatContextMerge(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	s := settingsFor(lex.URL)
	turn := func(ctx string, state json.RawMessage, lexAttrs string) (lextest.Call, json.RawMessage) {
		t.Helper()
		lex.Script(lextest.Answer{Body: lextest.Response{Messages: `[{"content":"ok","contentType":"PlainText"}]`, SessionAttributes: lexAttrs}.Body()})
		tn := turnFor(t, s, "hi")
		tn.Contact.ChatContext = json.RawMessage(ctx)
		res := h.turn(t, tn, state)
		return lex.Last(t), res.State
	}

	ctx1 := `{"plan":"gold","seats":3,"vip":true,"address":{"city":"Oslo","zip":"0150"},"gone":null}`
	got, st := turn(ctx1, nil, `{"plan":"gold","step":"1"}`)
	want := map[string]string{"plan": "gold", "seats": "3", "vip": "true", "address": `{"city":"Oslo","zip":"0150"}`}
	if !maps.Equal(got.SessionAttributes, want) {
		t.Errorf("turn 1 sent %v, want %v", got.SessionAttributes, want)
	}
	// The bot changed plan; the site did not: the bot's value stands, and
	// attributes Lex keeps come back.
	got, st = turn(ctx1, st, `{"plan":"silver","step":"2","seats":"3","vip":"true","address":"x"}`)
	if got.SessionAttributes["plan"] != "gold" || got.SessionAttributes["step"] != "1" {
		t.Errorf("turn 2 sent %v", got.SessionAttributes)
	}
	got, st = turn(ctx1, st, `{"plan":"silver","step":"3"}`)
	if got.SessionAttributes["plan"] != "silver" || got.SessionAttributes["step"] != "2" || got.SessionAttributes["address"] != "x" {
		t.Errorf("turn 3 sent %v", got.SessionAttributes)
	}
	// The site changed plan: the newer fact wins.
	got, _ = turn(`{"plan":"platinum"}`, st, `{}`)
	if got.SessionAttributes["plan"] != "platinum" || got.SessionAttributes["step"] != "3" {
		t.Errorf("turn 4 sent %v", got.SessionAttributes)
	}

	// A message's own KM_CHAT_CONTEXT is newer than the contact's.
	tn := turnFor(t, s, "hi")
	tn.Contact.ChatContext = json.RawMessage(`{"plan":"gold","team":"a"}`)
	tn.Message.Metadata = chat.Metadata{"KM_CHAT_CONTEXT": `{"plan":"trial"}`}
	h.turn(t, tn, nil)
	if sa := lex.Last(t).SessionAttributes; sa["plan"] != "trial" || sa["team"] != "a" {
		t.Errorf("message context sent %v", sa)
	}
	// A chat context that is not an object is left out, with a warning.
	tn = turnFor(t, s, "hi")
	tn.Contact.ChatContext = json.RawMessage(`["not","an","object"]`)
	if res := h.turn(t, tn, nil); !containsWarning(res.Warnings, "chat context is not a JSON object") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestDamagedStateIsReset(t *testing.T) {
	lex := lextest.New(t)
	res := newHarness().turn(t, turnFor(t, settingsFor(lex.URL), "hi"), json.RawMessage(`{"sessionAttributes":"oops"}`))
	if !containsWarning(res.Warnings, "could not be read") || len(lex.Last(t).SessionAttributes) != 0 {
		t.Errorf("warnings %q, sent %v", res.Warnings, lex.Last(t).SessionAttributes)
	}
}

func TestErrorKinds(t *testing.T) {
	cases := []struct {
		name   string
		answer lextest.Answer
		kind   bot.Kind
		label  string
		says   string
	}{
		{"throttling", withHeader(lextest.Error(429, "ThrottlingException", "Rate exceeded"), "Retry-After", "2"), bot.Retryable, "ThrottlingException", "throttling"},
		{"internal", lextest.Error(500, "InternalServerException", "oops"), bot.Retryable, "InternalServerException", "HTTP 500"},
		{"bad gateway", lextest.Error(502, "BadGatewayException", "upstream"), bot.Retryable, "BadGatewayException", "HTTP 502"},
		{"bare 503", lextest.Answer{Status: 503, Body: "Service Unavailable"}, bot.Retryable, "other", "HTTP 503"},
		{"access denied", lextest.Error(403, "AccessDeniedException", "User is not authorized to perform: lex:RecognizeText"), bot.Unauthorized, "AccessDeniedException", "AmazonLexRunBotsOnly"},
		{"unrecognized client", lextest.Error(403, "UnrecognizedClientException", "The security token included in the request is invalid."), bot.Unauthorized, "UnrecognizedClientException", "AmazonLexRunBotsOnly"},
		{"invalid signature", lextest.Error(403, "InvalidSignatureException", "The request signature we calculated does not match"), bot.Unauthorized, "InvalidSignatureException", "AmazonLexRunBotsOnly"},
		{"bare 403", lextest.Answer{Status: 403, Body: "Forbidden"}, bot.Unauthorized, "other", "AmazonLexRunBotsOnly"},
		{"not found", lextest.Error(404, "ResourceNotFoundException", "Could not find bot alias TSTALIASID"), bot.Misconfigured, "ResourceNotFoundException", "was not found"},
		{"validation", lextest.Error(400, "ValidationException", "1 validation error detected: Value at 'localeId'"), bot.Misconfigured, "ValidationException", "localeId"},
		{"bad request", lextest.Error(400, "BadRequestException", "bad"), bot.Misconfigured, "BadRequestException", "invalid"},
		{"conflict", lextest.Error(409, "ConflictException", "alias is being built"), bot.Misconfigured, "ConflictException", "conflict"},
		{"dependency failed", lextest.Error(424, "DependencyFailedException", "Invalid Lambda Response"), bot.Misconfigured, "DependencyFailedException", "Lambda"},
		{"200 that is not Lex", lextest.Answer{Status: 200, Body: "<html>hello</html>"}, bot.Misconfigured, "unreadable_response", "not a Lex response"},
	}
	lex := lextest.New(t)
	h := newHarness()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lex.Script(tc.answer)
			_, err := h.conn.Turn(context.Background(), turnFor(t, settingsFor(lex.URL), "hi"), nil)
			var be *bot.Error
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a *bot.Error", err)
			}
			if be.Kind != tc.kind || !strings.Contains(be.Message, tc.says) {
				t.Errorf("kind %s message %q; want %s containing %q", be.Kind, be.Message, tc.kind, tc.says)
			}
			if strings.Contains(be.Message, testSecret) || strings.Contains(err.Error(), testSecret) {
				t.Error("the secret is in the error")
			}
			if v := testutil.ToFloat64(h.conn.metrics.errors.WithLabelValues("bot1", tc.label)); v < 1 {
				t.Errorf("errors metric for %s = %v", tc.label, v)
			}
			if tc.name == "throttling" && be.RetryAfter != 2*time.Second {
				t.Errorf("RetryAfter = %v", be.RetryAfter)
			}
		})
	}
	if n := lex.Count(); n != len(cases) {
		t.Errorf("Lex got %d requests for %d turns: the SDK retried on its own", n, len(cases))
	}
	if strings.Contains(h.logs.String(), testSecret) {
		t.Error("the secret appeared in the log")
	}
}

func withHeader(a lextest.Answer, k, v string) lextest.Answer {
	a.Header = map[string]string{k: v}
	return a
}

func TestTimeoutAndUnreachable(t *testing.T) {
	srv := lextest.New(t, lextest.Answer{Body: lextest.OK, Delay: 2 * time.Second})
	h := newHarness()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.conn.Turn(ctx, turnFor(t, settingsFor(srv.URL), "hi"), nil)
	if bot.KindOf(err) != bot.Retryable || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("slow Lex: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("the turn outlived its deadline: %v", time.Since(start))
	}

	closed := newClosedURL(t)
	_, err = h.conn.Turn(context.Background(), turnFor(t, settingsFor(closed), "hi"), nil)
	if bot.KindOf(err) != bot.Retryable || !strings.Contains(err.Error(), "could not reach") {
		t.Errorf("unreachable Lex: %v", err)
	}
	if v := testutil.ToFloat64(h.conn.metrics.errors.WithLabelValues("bot1", errConnection)); v != 1 {
		t.Errorf("connection errors = %v", v)
	}
}

func TestInvalidSettings(t *testing.T) {
	h := newHarness()
	for name, s := range map[string]Settings{
		"no region":   settingsFor("http://127.0.0.1:1", func(s *Settings) { s.Region = "" }),
		"bot by name": settingsFor("http://127.0.0.1:1", func(s *Settings) { s.BotID = "OrderBot" }),
		"no secret":   settingsFor("http://127.0.0.1:1", func(s *Settings) { s.SecretAccessKey = "" }),
	} {
		_, err := h.conn.Turn(context.Background(), turnFor(t, s, "hi"), nil)
		if bot.KindOf(err) != bot.Misconfigured {
			t.Errorf("%s: %v", name, err)
		}
	}
	tn := turnFor(t, settingsFor("http://127.0.0.1:1"), "hi")
	tn.Bot.Settings = json.RawMessage(`{"region":"us-east-1","botId":"ABCDEFGHIJ","botAliasId":"TSTALIASID","accessKeyId":"AKIATESTKEY0000001","secretAccessKey":"` + testSecret + `","bogus":1}`)
	_, err := h.conn.Turn(context.Background(), tn, nil)
	if bot.KindOf(err) != bot.Misconfigured || strings.Contains(err.Error(), testSecret) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestEmptyTextIsNotSent(t *testing.T) {
	lex := lextest.New(t)
	res := newHarness().turn(t, turnFor(t, settingsFor(lex.URL), "   "), nil)
	if lex.Count() != 0 || res.State != nil || !containsWarning(res.Warnings, "no text") {
		t.Errorf("calls %d, result %+v", lex.Count(), res)
	}
}

func TestEndpointOverride(t *testing.T) {
	envLex := lextest.New(t)
	setLex := lextest.New(t)
	h := newHarness(func(o *Options) { o.Endpoint = envLex.URL })

	h.turn(t, turnFor(t, settingsFor(""), "via env"), nil)
	if envLex.Last(t).Text != "via env" || setLex.Count() != 0 {
		t.Errorf("env endpoint not used: env %d, settings %d", envLex.Count(), setLex.Count())
	}
	h.turn(t, turnFor(t, settingsFor(setLex.URL), "via settings"), nil)
	if setLex.Last(t).Text != "via settings" || envLex.Count() != 1 {
		t.Errorf("settings endpoint did not win: env %d, settings %d", envLex.Count(), setLex.Count())
	}
}

func TestClientCache(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness(func(o *Options) { o.MaxClients = 2 })
	h.turn(t, turnFor(t, settingsFor(lex.URL), "one"), nil)
	// New keys take effect at once, on the same bot's single cache entry.
	rotated := settingsFor(lex.URL, func(s *Settings) { s.AccessKeyID = "AKIAROTATED0000002" })
	h.turn(t, turnFor(t, rotated, "two"), nil)
	if got := lex.Last(t).Scope.KeyID; got != "AKIAROTATED0000002" {
		t.Errorf("after a key change Lex saw key %s", got)
	}
	if n := h.conn.cachedClients(); n != 1 {
		t.Errorf("%d cached clients for one bot", n)
	}
	for _, id := range []string{"bot2", "bot3", "bot4"} {
		tn := turnFor(t, settingsFor(lex.URL), "hi")
		tn.Bot.ID = id
		h.turn(t, tn, nil)
	}
	if n := h.conn.cachedClients(); n != 2 {
		t.Errorf("%d cached clients, bound is 2", n)
	}
}

func TestSessionID(t *testing.T) {
	valid := regexp.MustCompile(`^[0-9a-zA-Z._:-]{2,100}$`)
	for _, id := range []string{convID, "x", "", "has space", "ünïcødé", strings.Repeat("a", 101), "a/b", "ok-id_1.2:3"} {
		got := SessionID(id)
		if !valid.MatchString(got) {
			t.Errorf("SessionID(%q) = %q", id, got)
		}
		if valid.MatchString(id) && got != id {
			t.Errorf("SessionID(%q) = %q; a valid id should be kept", id, got)
		}
	}
	if SessionID("a b") == SessionID("a c") {
		t.Error("distinct conversations share a session")
	}
}

func TestUnshowableMessages(t *testing.T) {
	msgs := `[{"contentType":"ImageResponseCard"},{"contentType":"Hologram","content":""},{"contentType":"Hologram","content":"beam"}]`
	srv := lextest.New(t, lextest.Answer{Body: lextest.Response{Messages: msgs}.Body()})
	res := newHarness().turn(t, turnFor(t, settingsFor(srv.URL), "hi"), nil)
	if len(res.Replies) != 3 || res.Replies[0].Text != richmsg.Unshowable || res.Replies[1].Text != richmsg.Unshowable || res.Replies[2].Text != "beam" {
		t.Errorf("replies = %+v", res.Replies)
	}
	if len(res.Warnings) != 3 {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestLatencyMetric(t *testing.T) {
	srv := lextest.New(t)
	h := newHarness()
	h.turn(t, turnFor(t, settingsFor(srv.URL), "hi"), nil)
	if n := testutil.CollectAndCount(h.conn.metrics.latency); n != 1 {
		t.Errorf("latency series = %d", n)
	}
	if _, err := h.reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func newClosedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

func decodeAttrs(t *testing.T, raw string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func containsWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}
