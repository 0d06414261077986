package botrun_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpapi"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
)

// These tests run a Lex bot through the whole pipeline: saved through the
// service (validated against the scripted endpoint's model API), given
// every new conversation by the rules, and run by a real worker whose
// runner has the real Lex connector beside the webhook one. The scripted
// endpoint is the only stand-in, and it talks to the official SDK client
// over loopback.

const (
	lexKeyID  = "AKIATESTKEY0000001"
	lexSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
	lexRegion = "eu-west-2"
)

type lexEnv struct {
	*env
	lex   *lextest.Server
	lexID string
	// api is the running HTTP API, which also serves the signed file URLs
	// handed to the bot.
	api string
}

type lexOpts struct {
	deadline time.Duration
	// locales are the alias's enabled locales; nil means en_US only.
	locales []string
	edit    func(*lexbot.Settings)
}

func newLexEnv(t *testing.T, o lexOpts) *lexEnv {
	t.Helper()
	ctx := context.Background()
	// The API's address must be known before the service is built (it
	// makes file URLs absolute), and the handler needs the service.
	var handler atomic.Pointer[http.Handler]
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	t.Cleanup(api.Close)
	e := servicetest.New(t, func(so *service.Options) { so.PublicURL = api.URL })
	h := httpapi.New(httpapi.Options{Service: e.Service, PublicURL: api.URL})
	handler.Store(&h)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}

	lex := lextest.New(t)
	if o.locales == nil {
		o.locales = []string{"en_US"}
	}
	alias := lextest.Alias{BotID: lextest.BotID, BotName: lextest.BotName, AliasID: lextest.AliasID, AliasName: lextest.AliasName,
		Locales: map[string]bool{"fr_FR": false}} // a disabled locale is never chosen
	for _, l := range o.locales {
		alias.Locales[l] = true
	}
	lex.Describe(alias)

	// A webhook bot too: the runner serves both types, as on a real node.
	hookBot := newScriptedBot(t, echo)
	hook, _ := json.Marshal(webhookbot.Settings{URL: hookBot.srv.URL, TimeoutSeconds: 5})
	if _, err := e.Service.CreateBot(ctx, admin, service.NewBot{Name: "Helper", Type: chat.BotWebhook, Webhook: hook}); err != nil {
		t.Fatal(err)
	}
	// Named by bot and alias name, as an admin may type them: saving
	// resolves both through the model API and reads the alias's locales.
	s := lexbot.Settings{Region: lexRegion, BotID: lextest.BotName, BotAliasID: lextest.AliasName,
		AccessKeyID: lexKeyID, SecretAccessKey: lexSecret, Endpoint: lex.URL}
	if o.edit != nil {
		o.edit(&s)
	}
	raw, _ := json.Marshal(s)
	v, err := e.Service.CreateBot(ctx, admin, service.NewBot{Name: "Lexi", Type: chat.BotLex, AutoHandoff: true, HandleAllNewConversations: true, Lex: raw})
	if err != nil {
		t.Fatalf("creating the Lex bot: %v", err)
	}
	want := slices.Clone(o.locales)
	slices.Sort(want)
	if v.Lex == nil || v.Lex.BotID != lextest.BotID || v.Lex.BotAliasID != lextest.AliasID || !slices.Equal(v.Lex.Locales, want) ||
		v.Lex.SecretAccessKey != lexbot.RedactedValue || !v.HandleAll {
		t.Fatalf("saved Lex bot = %+v (handle all %v)", v.Lex, v.HandleAll)
	}
	if ops := modelOps(lex); !slices.Contains(ops, "ListBots") || !slices.Contains(ops, "DescribeBotAlias") {
		t.Fatalf("saving called the model API with %v", ops)
	}

	if o.deadline == 0 {
		o.deadline = 5 * time.Second
	}
	quiet := slog.New(slog.DiscardHandler)
	runner := turn.New(turn.Options{
		Connectors: map[chat.BotType]bot.Connector{
			chat.BotWebhook: webhookbot.New(webhookbot.Options{AllowPrivate: true}),
			chat.BotLex:     lexbot.New(lexbot.Options{Logger: quiet}),
		},
		Deadline: o.deadline,
		Backoff:  turn.Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond},
		Logger:   quiet,
	})
	en := &env{t: t, ctx: ctx, e: e, svc: e.Service, admin: admin, bot: hookBot, botID: v.Bot.ID, runner: runner}
	en.startWorker("node-a", 2*time.Second)
	return &lexEnv{env: en, lex: lex, lexID: v.Bot.ID, api: api.URL}
}

func modelOps(s *lextest.Server) []string {
	var ops []string
	for _, c := range s.ModelCalls() {
		ops = append(ops, c.Op)
	}
	return ops
}

// begin starts a conversation the way the widget does: no assignee, so
// the rules give it to the handle-all bot.
func (le *lexEnv) begin(in service.NewConversation) *chat.Conversation {
	le.t.Helper()
	if in.Contact.Name == "" {
		in.Contact.Name = "Visitor"
	}
	c, err := le.svc.StartConversation(le.ctx, le.admin, in)
	if err != nil {
		le.t.Fatal(err)
	}
	if c.Assignee == nil || *c.Assignee != (chat.Assignee{Type: chat.AssigneeBot, ID: le.lexID}) {
		le.t.Fatalf("the rules gave the conversation to %+v, not the Lex bot", c.Assignee)
	}
	return c
}

// rules sets the app's rules, keeping new conversations with the Lex bot.
func (le *lexEnv) rules(doc service.RulesDoc) {
	le.t.Helper()
	doc.BotRouting, doc.HandleAllBotID = true, le.lexID
	if _, err := le.svc.PutRules(le.ctx, le.admin, doc); err != nil {
		le.t.Fatal(err)
	}
}

// calls are the RecognizeText requests of c's Lex session.
func (le *lexEnv) calls(c *chat.Conversation) []lextest.Call {
	var out []lextest.Call
	for _, call := range le.lex.Calls() {
		if call.Session == lexbot.SessionID(c.ID) {
			out = append(out, call)
		}
	}
	return out
}

// handedOff waits for a handoff's notice ("Assigned to …" or "Waiting for
// an agent") and for the bot queue to drain, and checks that the bot no
// longer holds the conversation.
func (le *lexEnv) handedOff(c *chat.Conversation, notice string) chat.Message {
	le.t.Helper()
	m := le.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == notice })
	le.settle(c)
	if got := le.conv(c); got.Assignee != nil && got.Assignee.Type == chat.AssigneeBot {
		le.t.Fatalf("still with the bot after %q: %+v", notice, got)
	}
	return m
}

// botMessages are the bot's messages in c, in order.
func (le *lexEnv) botMessages(c *chat.Conversation) []chat.Message {
	var out []chat.Message
	for _, m := range le.messages(c) {
		if m.Sender.Type == chat.SenderBot {
			out = append(out, m)
		}
	}
	return out
}

// turnNote reads the finished turn's note for the message at seq, from
// the database the service wrote it to.
func (le *lexEnv) turnNote(c *chat.Conversation, seq int64) string {
	le.t.Helper()
	db, err := sql.Open("sqlite", "file:"+le.e.DBPath+"?mode=ro")
	if err != nil {
		le.t.Fatal(err)
	}
	defer db.Close()
	var note string
	if err := db.QueryRowContext(le.ctx, "SELECT note FROM bot_turns WHERE conversation_id = ? AND message_seq = ?", c.ID, seq).Scan(&note); err != nil {
		le.t.Fatalf("reading the turn of message %d: %v", seq, err)
	}
	return note
}

// byText answers each request by its text; unknown texts get a plain
// echo, so a test sees what reached the bot.
func byText(answers map[string]lextest.Answer) lextest.Answer {
	return lextest.Answer{From: func(c lextest.Call) lextest.Answer {
		if a, ok := answers[c.Text]; ok {
			return a
		}
		return say("you said " + c.Text)
	}}
}

// say is a fulfilled intent with one plain-text message.
func say(text string) lextest.Answer {
	return lextest.Response{
		Messages:     lextest.Messages(lextest.PlainText(text)),
		Intent:       lextest.Intent("Chat", "Fulfilled", ""),
		DialogAction: `{"type":"Close"}`,
	}.Answer()
}

// payload is a CustomPayload message holding Kommunicate's envelope.
func payload(message string, metadata map[string]any) string {
	b, _ := json.Marshal(map[string]any{"platform": "kommunicate", "message": message, "metadata": metadata})
	return lextest.CustomPayload(string(b))
}

func TestLexWelcomeAndRichReplies(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	quick := payload("Anything else?", map[string]any{"templateId": "6", "payload": []map[string]string{
		{"title": "Yes", "message": "yes please"}, {"title": "No", "message": "no thanks"}}})
	le.lex.Script(byText(map[string]lextest.Answer{
		lexbot.WelcomeText: say("Hi, I am Lexi"),
		"show me": lextest.Response{
			Messages: lextest.Messages(
				lextest.PlainText("Here is what we have"),
				lextest.SSML(`<speak>Our <emphasis level="strong">best</emphasis> seller<break time="1s"/>is tulips &amp; roses.</speak>`),
				lextest.Card("Tulips", "Fresh every day", "https://example.com/tulips.png", "Buy", "buy tulips", "More", "more tulips"),
				quick,
			),
			Intent:       lextest.Intent("Catalogue", "Fulfilled", `{"Colour":null}`),
			DialogAction: `{"type":"Close"}`,
		}.Answer(),
	}))
	c := le.begin(service.NewConversation{})
	le.waitMessage(c, fromBot("Hi, I am Lexi"))
	le.settle(c)
	first := le.lex.Last(t)
	path := "/bots/" + lextest.BotID + "/botAliases/" + lextest.AliasID + "/botLocales/en_US/sessions/" + lexbot.SessionID(c.ID) + "/text"
	if first.Text != lexbot.WelcomeText || first.Path != path || first.Session != c.ID {
		t.Fatalf("welcome request = %+v", first)
	}
	if sc := first.Scope; sc.KeyID != lexKeyID || sc.Region != lexRegion || sc.Service != "lex" || sc.Algorithm != "AWS4-HMAC-SHA256" {
		t.Fatalf("SigV4 scope = %+v", sc)
	}

	le.contactSays(c, "show me", nil)
	le.waitMessage(c, fromBot("Anything else?"))
	le.settle(c)
	ms := le.botMessages(c)
	if len(ms) != 5 {
		t.Fatalf("bot messages = %+v", ms)
	}
	if ms[1].Text != "Here is what we have" || ms[2].Text != "Our best seller is tulips & roses." {
		t.Fatalf("plain and SSML replies = %q, %q", ms[1].Text, ms[2].Text)
	}
	card := ms[3]
	if card.Metadata[chat.MetaTemplateID] != "10" {
		t.Fatalf("card = %+v", card)
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
		t.Fatalf("card payload %q: %v", card.Metadata[chat.MetaPayload], err)
	}
	if cd := cards[0]; cd.Title != "Tulips" || cd.Subtitle != "Fresh every day" || cd.Header.ImgSrc != "https://example.com/tulips.png" ||
		len(cd.Buttons) != 2 || cd.Buttons[0].Name != "Buy" || cd.Buttons[0].Action.Type != "quickReply" || cd.Buttons[0].Action.Payload.Message != "buy tulips" ||
		cd.Buttons[1].Action.Payload.Message != "more tulips" {
		t.Fatalf("card = %+v", cd)
	}
	if q := ms[4]; q.Metadata[chat.MetaTemplateID] != "6" || !strings.Contains(q.Metadata[chat.MetaPayload], `"message":"yes please"`) {
		t.Fatalf("quick replies = %+v", q)
	}

	// A click on the card's button is the contact sending its value.
	le.contactSays(c, cards[0].Buttons[0].Action.Payload.Message, nil)
	le.waitMessage(c, fromBot("you said buy tulips"))
	le.settle(c)
	if got := le.lex.Last(t); got.Text != "buy tulips" {
		t.Fatalf("the click sent %q", got.Text)
	}
	if n := len(le.calls(c)); n != 3 {
		t.Fatalf("Lex got %d requests, want 3", n)
	}
}

// KM_ASSIGN_TO in a custom payload: "" lets the rules pick an online agent,
// an email names the agent.
func TestLexAssignTo(t *testing.T) {
	for _, tc := range []struct{ name, target, want string }{
		{"rules pick", "", "Assigned to Mia"},
		{"agent email", "noa@example.com", "Assigned to Noa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := newLexEnv(t, lexOpts{})
			le.rules(service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true})
			le.online(le.agent("Mia"))
			le.agent("Noa") // offline: only a named handoff reaches her
			le.lex.Script(lextest.Response{
				Messages:     lextest.Messages(payload("Connecting you", map[string]any{chat.MetaAssignTo: tc.target})),
				Intent:       lextest.Intent("Human", "Fulfilled", ""),
				DialogAction: `{"type":"Close"}`,
			}.Answer())
			c := le.begin(service.NewConversation{SkipBotEvent: true})
			le.contactSays(c, "a person please", nil)
			notice := le.handedOff(c, tc.want)
			said := le.waitMessage(c, fromBot("Connecting you"))
			if said.Seq > notice.Seq || notice.Metadata[chat.MetaSkipBot] != "true" {
				t.Fatalf("reply %+v, notice %+v", said, notice)
			}
			s := le.summary()
			if s.HandoffsByReason[string(chat.HandoffAssignTo)] != 1 || len(s.TopHandoffIntents) != 1 || s.TopHandoffIntents[0].Intent != "Human" {
				t.Fatalf("handoffs = %v, intents %+v", s.HandoffsByReason, s.TopHandoffIntents)
			}
		})
	}
}

func TestLexAssignTeam(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.rules(service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true})
	fay, gus := le.agent("Fay"), le.agent("Gus")
	le.online(fay, gus)
	team, err := le.svc.CreateTeam(le.ctx, le.admin, service.NewTeam{Name: "Sales", AgentIDs: []string{gus.AgentID}})
	if err != nil {
		t.Fatal(err)
	}
	le.lex.Script(lextest.Response{Messages: lextest.Messages(payload("Sales will help", map[string]any{chat.MetaAssignTeam: team.ID}))}.Answer())
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	le.contactSays(c, "buy", nil)
	le.handedOff(c, "Assigned to Gus")
	if got := le.conv(c); got.Assignee == nil || got.Assignee.ID != gus.AgentID || got.TeamID != team.ID {
		t.Fatalf("conversation = %+v", got)
	}
}

// Close with a Failed intent is V2's hang-up: the hang-up text is shown,
// then the handoff notice.
func TestLexCloseFailedHandsOff(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.rules(service.RulesDoc{Mode: chat.ModeAutomatic})
	le.online(le.agent("Ola"))
	le.lex.Script(lextest.Response{
		Messages:     lextest.Messages(lextest.PlainText("Sorry, I cannot help with refunds.")),
		Intent:       lextest.Intent("Refund", "Failed", `{"OrderId":null}`),
		DialogAction: `{"type":"Close"}`,
	}.Answer())
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	le.contactSays(c, "refund", nil)
	notice := le.handedOff(c, "Assigned to Ola")
	hangUp := le.waitMessage(c, fromBot("Sorry, I cannot help with refunds."))
	if hangUp.Seq > notice.Seq {
		t.Fatalf("the notice (seq %d) came before the hang-up text (seq %d)", notice.Seq, hangUp.Seq)
	}
	s := le.summary()
	if s.HandoffsByReason[string(chat.HandoffBotGaveUp)] != 1 || len(s.TopHandoffIntents) != 1 || s.TopHandoffIntents[0].Intent != "Refund" {
		t.Fatalf("handoffs = %v, intents %+v", s.HandoffsByReason, s.TopHandoffIntents)
	}
}

// The connector keeps no memory of its own: the fallback count reaches the
// limit only because the pipeline stores each turn's state and hands it to
// the next turn.
func TestLexConsecutiveFallbacksHandOff(t *testing.T) {
	le := newLexEnv(t, lexOpts{}) // default limit: 2
	le.rules(service.RulesDoc{Mode: chat.ModeAutomatic})
	le.online(le.agent("Ola"))
	le.lex.Script(lextest.Fallback("Sorry, can you rephrase?"))
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	for i, text := range []string{"blah", "blah blah"} {
		le.contactSays(c, text, nil)
		le.waitFor("fallback reply", func() bool { return len(le.botMessages(c)) == i+1 })
		le.settle(c)
		if got := le.conv(c); got.Assignee == nil || got.Assignee.ID != le.lexID {
			t.Fatalf("after fallback %d the conversation left the bot: %+v", i+1, got.Assignee)
		}
		st, _, err := le.e.Store.GetBotState(le.ctx, c.AppID, c.ID, le.lexID)
		if err != nil || !strings.Contains(string(st), fmt.Sprintf(`"fallbacks":%d`, i+1)) {
			t.Fatalf("state after fallback %d = %s, %v", i+1, st, err)
		}
	}
	le.contactSays(c, "blah blah blah", nil)
	le.handedOff(c, "Assigned to Ola")
	if n := len(le.calls(c)); n != 3 {
		t.Fatalf("Lex got %d requests, want 3", n)
	}
	if s := le.summary(); s.HandoffsByReason[string(chat.HandoffBotGaveUp)] != 1 {
		t.Fatalf("handoffs = %v", s.HandoffsByReason)
	}
}

func TestLexHandoffSessionAttribute(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.rules(service.RulesDoc{Mode: chat.ModeAutomatic})
	le.online(le.agent("Ola"))
	le.lex.Script(lextest.Response{
		Messages:          lextest.Messages(lextest.PlainText("I will fetch a colleague")),
		Intent:            lextest.Intent("Escalate", "Fulfilled", ""),
		DialogAction:      `{"type":"Close"}`,
		SessionAttributes: `{"handoff":"true","topic":"billing"}`,
	}.Answer())
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	le.contactSays(c, "this is urgent", nil)
	le.handedOff(c, "Assigned to Ola")
	le.waitMessage(c, fromBot("I will fetch a colleague"))
	st, _, err := le.e.Store.GetBotState(le.ctx, c.AppID, c.ID, le.lexID)
	if err != nil || strings.Contains(string(st), "handoff") || !strings.Contains(string(st), "billing") {
		t.Fatalf("kept state = %s, %v: the acted-on flag must go, the rest stay", st, err)
	}
}

// The contact's language picks the locale among those validation read from
// the alias.
func TestLexLocales(t *testing.T) {
	le := newLexEnv(t, lexOpts{
		locales: []string{"en_GB", "en_US", "es_419", "pt_BR"},
		edit:    func(s *lexbot.Settings) { s.DefaultLocale = "en_GB" },
	})
	le.lex.Script(say("hello"))
	for _, tc := range []struct{ lang, want string }{
		{"pt-BR", "pt_BR"},
		{"es-MX", "es_419"}, // es_ES is not enabled: Latin American Spanish serves Mexico
		{"en", "en_US"},
		{"zh-Hant-TW", "en_GB"}, // no Chinese locale: the default
		{"fr-FR", "en_GB"},      // fr_FR exists on the alias but is disabled
	} {
		c := le.begin(service.NewConversation{Contact: service.ContactInput{Language: tc.lang}})
		le.waitMessage(c, fromBot("hello"))
		le.settle(c)
		calls := le.calls(c)
		if len(calls) != 1 || calls[0].Locale != tc.want || calls[0].Text != lexbot.WelcomeText {
			t.Errorf("contact language %s: Lex requests %+v, want one in %s", tc.lang, calls, tc.want)
		}
	}
}

// An attachment reaches the bot as kommunicateMediaEvent with the
// attachments attribute, and the bot's code can fetch the file from the
// signed URL; a location arrives the same way.
func TestLexAttachmentAndLocation(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	const content = "order 1234: two tulips, one rose\n"
	var fetchErr atomic.Value
	le.lex.Script(lextest.Answer{From: func(c lextest.Call) lextest.Answer {
		if c.Text != lexbot.MediaText {
			return say("you said " + c.Text)
		}
		var media []bot.Attachment
		if err := json.Unmarshal([]byte(c.RequestAttributes[lexbot.AttachmentsAttribute]), &media); err != nil || len(media) != 1 {
			return say(fmt.Sprintf("unreadable attachments %q", c.RequestAttributes[lexbot.AttachmentsAttribute]))
		}
		if media[0].Type == "location" {
			return say(fmt.Sprintf("you are at %v,%v", media[0].Payload["lat"], media[0].Payload["lon"]))
		}
		u, _ := media[0].Payload["url"].(string)
		res, err := http.Get(u)
		if err != nil {
			fetchErr.Store(err.Error())
			return say("could not fetch")
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return say(fmt.Sprintf("%s %v bytes (HTTP %d): %s", media[0].Payload["name"], media[0].Payload["size"], res.StatusCode, body))
	}})
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	up, err := le.svc.CreateUpload(le.ctx, le.admin, "order.txt", "text/plain", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	contact := service.ContactActor(c.AppID, c.ContactID)
	if _, _, err := le.svc.SendMessage(le.ctx, contact, c.ID, service.SendInput{Attachments: []service.AttachmentRef{{UploadID: up.ID}}}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("order.txt %d bytes (HTTP 200): %s", len(content), strings.TrimSpace(content))
	le.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderBot && strings.TrimSpace(m.Text) == want })
	le.settle(c)
	if e := fetchErr.Load(); e != nil {
		t.Fatalf("the bot could not fetch the file: %v", e)
	}
	sent := le.lex.Last(t)
	var media []map[string]any
	if err := json.Unmarshal([]byte(sent.RequestAttributes[lexbot.AttachmentsAttribute]), &media); err != nil {
		t.Fatal(err)
	}
	p, _ := media[0]["payload"].(map[string]any)
	if media[0]["type"] != "text/plain" || p["name"] != "order.txt" || !strings.HasPrefix(fmt.Sprint(p["url"]), le.api+"/files/") {
		t.Fatalf("attachments attribute = %s", sent.RequestAttributes[lexbot.AttachmentsAttribute])
	}

	if _, _, err := le.svc.SendMessage(le.ctx, contact, c.ID, service.SendInput{ContentType: chat.ContentLocation, Location: &chat.Location{Lat: 52.52, Lon: 13.405}}); err != nil {
		t.Fatal(err)
	}
	le.waitMessage(c, fromBot("you are at 52.52,13.405"))
	le.settle(c)
	if got := le.lex.Last(t); got.Text != lexbot.MediaText || got.RequestAttributes[lexbot.AttachmentsAttribute] != `[{"type":"location","payload":{"lat":52.52,"lon":13.405}}]` {
		t.Fatalf("location request = %+v", got)
	}
}

// Every Lex error ends in an answer or a handoff, never silence; the ones
// an admin must fix show on the bot's status through the API.
func TestLexErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []lextest.Answer
		// handoff says the conversation goes to people; else the bot answers.
		handoff bool
		status  chat.BotStatus
		minReqs int
	}{
		{"throttling is retried", []lextest.Answer{lextest.Throttling, lextest.Throttling, say("sorry for the wait")}, false, chat.BotStatusOK, 3},
		{"5xx is retried, then handed off", []lextest.Answer{lextest.Internal}, true, chat.BotStatusOK, 2},
		{"access denied", []lextest.Answer{lextest.AccessDenied}, true, chat.BotStatusCredentialsInvalid, 1},
		{"unrecognized client", []lextest.Answer{lextest.UnrecognizedClient}, true, chat.BotStatusCredentialsInvalid, 1},
		{"resource not found", []lextest.Answer{lextest.NotFound}, true, chat.BotStatusMisconfigured, 1},
		{"validation", []lextest.Answer{lextest.Validation}, true, chat.BotStatusMisconfigured, 1},
		{"timeout", []lextest.Answer{{Body: lextest.OK, Delay: 5 * time.Second}}, true, chat.BotStatusOK, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const deadline = 600 * time.Millisecond
			le := newLexEnv(t, lexOpts{deadline: deadline})
			le.lex.Script(tc.answers...)
			c := le.begin(service.NewConversation{SkipBotEvent: true})
			began := time.Now()
			le.contactSays(c, "hello?", nil)
			if tc.handoff {
				le.handedOff(c, chat.WaitingNotice().Text)
				if took := time.Since(began); took > deadline+2*time.Second {
					t.Fatalf("handoff took %v", took)
				}
				if s := le.summary(); s.HandoffsByReason[string(chat.HandoffBotFailed)] != 1 {
					t.Fatalf("handoffs = %v", s.HandoffsByReason)
				}
			} else {
				le.waitMessage(c, fromBot("sorry for the wait"))
				le.settle(c)
			}
			if n := len(le.calls(c)); n < tc.minReqs || (!tc.handoff && n != tc.minReqs) {
				t.Fatalf("Lex got %d requests, want at least %d", n, tc.minReqs)
			}
			if got := le.apiBot(t); got.Status != tc.status || (tc.status != chat.BotStatusOK) != (got.StatusDetail != "") ||
				strings.Contains(got.StatusDetail, lexSecret) {
				t.Fatalf("bot status %q (%q), want %q", got.Status, got.StatusDetail, tc.status)
			}
		})
	}
}

type apiBotView struct {
	Status       chat.BotStatus `json:"status"`
	StatusDetail string         `json:"statusDetail"`
}

// apiBot reads the Lex bot as an admin's client does.
func (le *lexEnv) apiBot(t *testing.T) apiBotView {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, le.api+"/api/v1/bots/"+le.lexID, nil)
	req.Header.Set("Authorization", "Bearer "+servicetest.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v apiBotView
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET bot: HTTP %d, %v", res.StatusCode, err)
	}
	return v
}

// A message longer than Lex accepts is cut at a word boundary, and the
// turn says so.
func TestLexLongMessageTruncated(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.lex.Script(say("that was long"))
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	var b strings.Builder
	for i := 0; b.Len() < 1500; i++ {
		fmt.Fprintf(&b, "word%d ", i)
	}
	long := b.String()[:1500]
	m, _, err := le.svc.SendMessage(le.ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, service.SendInput{Text: long})
	if err != nil {
		t.Fatal(err)
	}
	le.waitMessage(c, fromBot("that was long"))
	le.settle(c)
	sent := le.lex.Last(t).Text
	if n := utf8.RuneCountInString(sent); n > lexbot.MaxTextRunes || n < lexbot.MaxTextRunes-12 || !strings.HasPrefix(long, sent) || long[len(sent)] != ' ' {
		t.Fatalf("Lex received %d characters ending %q", n, sent[max(0, len(sent)-20):])
	}
	note := le.turnNote(c, m.Seq)
	if !strings.Contains(note, "1500 characters") || !strings.Contains(note, fmt.Sprintf("first %d", utf8.RuneCountInString(sent))) {
		t.Fatalf("turn note = %q", note)
	}
}

func TestLexCustomPayloadNotJSON(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.lex.Script(lextest.Response{Messages: lextest.Messages(lextest.CustomPayload(`{"message": "Pick one", "metadata": {`))}.Answer())
	c := le.begin(service.NewConversation{SkipBotEvent: true})
	m, _, err := le.svc.SendMessage(le.ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, service.SendInput{Text: "menu"})
	if err != nil {
		t.Fatal(err)
	}
	shown := le.waitMessage(c, fromBot(`{"message": "Pick one", "metadata": {`))
	le.settle(c)
	if shown.Metadata[chat.MetaTemplateID] != "" {
		t.Fatalf("shown as %+v", shown)
	}
	if note := le.turnNote(c, m.Seq); !strings.Contains(note, "custom payload was shown as text") {
		t.Fatalf("turn note = %q", note)
	}
}

// What Lex returned last turn goes back on the next, with the contact's
// chat context merged in.
func TestLexSessionAttributesRoundTrip(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.lex.Script(byText(map[string]lextest.Answer{
		lexbot.WelcomeText: lextest.Response{
			Messages:          lextest.Messages(lextest.PlainText("Welcome back")),
			SessionAttributes: `{"step":"greeted","plan":"gold"}`,
		}.Answer(),
	}))
	c := le.begin(service.NewConversation{Contact: service.ContactInput{ChatContext: json.RawMessage(`{"plan":"gold","cart":{"items":2},"none":null}`)}})
	le.waitMessage(c, fromBot("Welcome back"))
	le.settle(c)
	le.contactSays(c, "where is my order", nil)
	le.waitMessage(c, fromBot("you said where is my order"))
	le.settle(c)
	calls := le.calls(c)
	if len(calls) != 2 {
		t.Fatalf("Lex requests = %+v", calls)
	}
	first, second := calls[0].SessionAttributes, calls[1].SessionAttributes
	if len(first) != 2 || first["plan"] != "gold" || first["cart"] != `{"items":2}` {
		t.Fatalf("first turn's attributes = %v", first)
	}
	if len(second) != 3 || second["step"] != "greeted" || second["plan"] != "gold" || second["cart"] != `{"items":2}` {
		t.Fatalf("second turn's attributes = %v", second)
	}
}
