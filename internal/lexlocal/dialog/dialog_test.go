package dialog_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/dialog"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
)

type step struct {
	text string
	want string // summary()
	say  string // contents(); "-" for no messages, "" for not checked
}

func play(t *testing.T, s *session, steps []step) {
	t.Helper()
	for i, st := range steps {
		out := s.say(st.text)
		if got := summary(out); got != st.want {
			t.Fatalf("turn %d %q: state %q, want %q (messages %q)", i+1, st.text, got, st.want, contents(out))
		}
		want := st.say
		if want == "-" {
			want = ""
		} else if want == "" {
			continue
		}
		if got := contents(out); got != want {
			t.Fatalf("turn %d %q: messages\n%s\nwant\n%s", i+1, st.text, got, want)
		}
	}
}

func TestConversations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		locale string
		attrs  map[string]string
		steps  []step
	}{
		{
			name: "slot elicited, confirmed, fulfilled", attrs: map[string]string{"name": "Ana", "city": "Lima"},
			steps: []step{
				{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None",
					"PlainText:Let me check that.\nPlainText:What is your order number, Ana?"},
				{"it is 12345", "ConfirmIntent OrderStatus InProgress None", "PlainText:Look up order 12345?"},
				{"yes please", "Close OrderStatus Fulfilled Confirmed",
					"PlainText:Order 12345 ({Product}) ships to Lima.\n" +
						`CustomPayload:{"platform":"kommunicate","message":"Order 12345","metadata":{"templateId":"6"}}` + "\n" +
						"ImageResponseCard:Order 12345|for Ana|https://example.com/12345.png|Track=track my order 12345"},
			},
		},
		{
			name: "slots from the first utterance skip their prompts", attrs: map[string]string{"city": "Quito"},
			steps: []step{
				{"status of my notebook order", "ElicitSlot/OrderNumber OrderStatus InProgress None",
					"PlainText:Let me check that.\nPlainText:What is your order number, [name]?"},
				{"777", "ConfirmIntent OrderStatus InProgress None", "PlainText:Look up order 777?"},
				{"sí", "Close OrderStatus Fulfilled Confirmed", ""},
			},
		},
		{
			name: "denied",
			steps: []step{
				{"track my order 42", "ConfirmIntent OrderStatus InProgress None", "PlainText:Let me check that.\nPlainText:Look up order 42?"},
				{"no", "Close OrderStatus Failed Denied", "PlainText:Okay, never mind."},
			},
		},
		{
			name: "unclear confirmation asked again, then fails",
			steps: []step{
				{"track my order 42", "ConfirmIntent OrderStatus InProgress None", ""},
				{"hmm maybe", "ConfirmIntent OrderStatus InProgress None", "PlainText:Look up order 42?"},
				{"what", "Close OrderStatus Failed None", "PlainText:Sorry, I did not get that."},
			},
		},
		{
			name: "unreadable slot re-prompted within MaxRetries, then fails",
			steps: []step{
				{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
				{"I forgot it", "ElicitSlot/OrderNumber OrderStatus InProgress None", "PlainText:What is your order number, [name]?"},
				{"no idea", "Close OrderStatus Failed None", "PlainText:Sorry, I did not get that."},
			},
		},
		{
			name: "a retry that succeeds resets nothing it should not",
			steps: []step{
				{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
				{"dunno", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
				{"55", "ConfirmIntent OrderStatus InProgress None", "PlainText:Look up order 55?"},
				{"?", "ConfirmIntent OrderStatus InProgress None", ""},
				{"yes", "Close OrderStatus Fulfilled Confirmed", ""},
			},
		},
		{
			name: "another intent takes over during elicitation",
			steps: []step{
				{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
				{"talk to a human", "Close TalkToHuman Fulfilled None", "SSML:<speak>Connecting you now.</speak>"},
			},
		},
		{
			name: "another intent takes over during confirmation",
			steps: []step{
				{"track my order 42", "ConfirmIntent OrderStatus InProgress None", ""},
				{"I want to speak to an agent", "Close TalkToHuman Fulfilled None", "SSML:<speak>Connecting you now.</speak>"},
			},
		},
		{
			name: "one miss is answered, two in a row fail",
			steps: []step{
				{"qwerty zxcv", "Close FallbackIntent ReadyForFulfillment None", "PlainText:Sorry, I did not get that."},
				{"asdf ghjk", "Close FallbackIntent Failed None", "PlainText:Sorry, I did not get that."},
				{"talk to a human", "Close TalkToHuman Fulfilled None", ""},
				{"blorp", "Close FallbackIntent ReadyForFulfillment None", ""},
			},
		},
		{
			name: "a finished intent does not swallow the next turn",
			steps: []step{
				{"talk to a human", "Close TalkToHuman Fulfilled None", ""},
				{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
			},
		},
		{
			name: "Spanish locale", locale: "es_US",
			steps: []step{
				{"dónde está mi pedido", "ElicitSlot/OrderNumber OrderStatus InProgress None", "PlainText:¿Cuál es su número de pedido?"},
				{"el 314", "ConfirmIntent OrderStatus InProgress None", "PlainText:¿Busco el pedido 314?"},
				{"claro que sí", "Close OrderStatus Fulfilled Confirmed", "PlainText:El pedido 314 fue enviado."},
				{"xyzzy plugh", "Close FallbackIntent ReadyForFulfillment None", "PlainText:Lo siento, no entendí."},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := tc.locale
			if loc == "" {
				loc = "en_US"
			}
			s := &session{t: t, brain: newBrain(t, shopBot()), bot: shopID, locale: loc}
			s.state.SessionAttributes = tc.attrs
			play(t, s, tc.steps)
		})
	}
}

// Unfilled slots are present as null from the first turn, and filled ones
// carry Lex's value object.
func TestSlotsOnTheWire(t *testing.T) {
	s := &session{t: t, brain: newBrain(t, shopBot()), bot: shopID, locale: "en_US"}
	out := s.say("status of my notebook order")
	raw, err := json.Marshal(out.SessionState.Intent)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"OrderStatus","slots":{"OrderNumber":null,"Product":{"value":{"originalValue":"notebook","interpretedValue":"laptop","resolvedValues":["laptop"]}}},"state":"InProgress","confirmationState":"None"}`
	if string(raw) != want {
		t.Fatalf("intent\n%s\nwant\n%s", raw, want)
	}
	ip := out.Interpretations
	if len(ip) < 2 || ip[0].Intent.Name != "OrderStatus" || ip[0].NLUConfidence == nil || ip[0].NLUConfidence.Score < 0.4 {
		t.Fatalf("interpretations %+v", ip)
	}
	if ip[0].Intent.State != "InProgress" || ip[0].InterpretationSource != "Lex" {
		t.Fatalf("top interpretation must repeat the session intent: %+v", ip[0].Intent)
	}
	for _, in := range ip {
		if in.Intent.Name == "FallbackIntent" && in.NLUConfidence != nil {
			t.Fatalf("FallbackIntent must carry no score: %+v", in)
		}
	}
}

// Custom payloads and cards go on the wire exactly as Lex writes them.
func TestMessagesOnTheWire(t *testing.T) {
	s := &session{t: t, brain: newBrain(t, shopBot()), bot: shopID, locale: "en_US"}
	s.state.SessionAttributes = map[string]string{"name": "Ana", "city": "Lima"}
	s.say("track my order 42")
	raw, err := json.Marshal(s.say("yes").Messages)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"content":"Order 42 ({Product}) ships to Lima.","contentType":"PlainText"},` +
		`{"content":"{\"platform\":\"kommunicate\",\"message\":\"Order 42\",\"metadata\":{\"templateId\":\"6\"}}","contentType":"CustomPayload"},` +
		`{"contentType":"ImageResponseCard","imageResponseCard":{"title":"Order 42","subtitle":"for Ana","imageUrl":"https://example.com/42.png","buttons":[{"text":"Track","value":"track my order 42"}]}}]`
	if string(raw) != want {
		t.Fatalf("messages\n%s\nwant\n%s", raw, want)
	}
}

// Session attributes survive every turn unchanged, request attributes are
// never folded into them, and the caller's map is not written to.
func TestAttributes(t *testing.T) {
	b := newBrain(t, shopBot())
	attrs := map[string]string{"name": "Ana"}
	in := lexlocal.RecognizeInput{
		BotID: shopID, LocaleID: "en_US", SessionID: "s", Text: "where is my order",
		SessionState: lexlocal.SessionState{SessionAttributes: attrs}, RequestAttributes: map[string]string{"attachments": "[]"},
	}
	out, err := b.Recognize(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	got := out.SessionState.SessionAttributes
	if len(got) != 1 || got["name"] != "Ana" {
		t.Fatalf("attributes %v", got)
	}
	got["name"] = "changed"
	if attrs["name"] != "Ana" {
		t.Fatal("the caller's attribute map was aliased")
	}
	in.SessionState = lexlocal.SessionState{}
	if out, _ = b.Recognize(context.Background(), in); out.SessionState.SessionAttributes == nil {
		t.Fatal("attributes must be an empty map, not nil")
	}
}

// A state a client set with PutSession is honoured on the next turn.
func TestClientSetState(t *testing.T) {
	product := &lexlocal.Slot{Value: &lexlocal.SlotValue{OriginalValue: "phone", InterpretedValue: "phone", ResolvedValues: []string{"phone"}}}
	for _, tc := range []struct {
		name  string
		state lexlocal.SessionState
		text  string
		want  string
		say   string
	}{
		{"ElicitSlot on a named slot", lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "ElicitSlot", SlotToElicit: "Product"},
			Intent:       &lexlocal.Intent{Name: "OrderStatus", Slots: map[string]*lexlocal.Slot{"OrderNumber": nil}},
		}, "a notebook", "ElicitSlot/OrderNumber OrderStatus InProgress None", "PlainText:What is your order number, [name]?"},
		{"ConfirmIntent with slots given", lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "ConfirmIntent"},
			Intent: &lexlocal.Intent{Name: "OrderStatus", State: "InProgress", Slots: map[string]*lexlocal.Slot{
				"OrderNumber": {Value: &lexlocal.SlotValue{OriginalValue: "9", InterpretedValue: "9"}}, "Product": product,
			}},
		}, "yep", "Close OrderStatus Fulfilled Confirmed", "PlainText:Order 9 (phone) ships to [city]."},
		{"Close starts afresh", lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "Close"},
			Intent:       &lexlocal.Intent{Name: "OrderStatus", State: "Fulfilled"},
		}, "talk to a human", "Close TalkToHuman Fulfilled None", ""},
		{"unknown intent starts afresh", lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "ElicitSlot", SlotToElicit: "X"},
			Intent:       &lexlocal.Intent{Name: "NoSuchIntent"},
		}, "talk to a human", "Close TalkToHuman Fulfilled None", ""},
		{"unknown slot starts afresh", lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "ElicitSlot", SlotToElicit: "Colour"},
			Intent:       &lexlocal.Intent{Name: "OrderStatus"},
		}, "red", "Close FallbackIntent ReadyForFulfillment None", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{t: t, brain: newBrain(t, shopBot()), bot: shopID, locale: "en_US", state: tc.state}
			out := s.say(tc.text)
			if got := summary(out); got != tc.want {
				t.Fatalf("state %q, want %q", got, tc.want)
			}
			if tc.say != "" && !strings.HasPrefix(contents(out), tc.say) {
				t.Fatalf("messages %q, want prefix %q", contents(out), tc.say)
			}
		})
	}
}

// V1 bots: the clarification prompt up to its maxAttempts in a row, then
// the abort statement and a Failed close.
func TestV1Semantics(t *testing.T) {
	v1 := loadFixture(t, "v1", "support_v1.json")
	b := newBrain(t, v1)
	id := dialog.V1ID(v1.Name)
	s := &session{t: t, brain: b, bot: id, locale: "en_US"}
	clarify := "PlainText:Sorry, can you please repeat that?"
	play(t, s, []step{
		{"blah blah", "ElicitIntent", ""},
		{"more nonsense", "ElicitIntent", ""},
		{"still nonsense", "Close FallbackIntent Failed None", "PlainText:Sorry, I could not understand. Goodbye."},
		{"gibberish", "ElicitIntent", ""},
		{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", "PlainText:What is your order number?"},
		{"5", "ConfirmIntent OrderStatus InProgress None", "PlainText:Look up order 5?"},
		{"yes", "Close OrderStatus Fulfilled Confirmed", `PlainText:Order 5 has shipped.` + "\n" + `CustomPayload:{"templateId":"6"}`},
	})
	// Both variations of the one clarification group are used.
	seen := map[string]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		s.state = lexlocal.SessionState{}
		seen[contents(s.say("nonsense"))] = true
	}
	if !seen[clarify] || !seen["PlainText:Sorry, I did not catch that."] {
		t.Fatalf("clarification variations seen: %v", seen)
	}
}

// A V1 intent that runs out of attempts says the abort statement.
func TestV1SlotFailureAborts(t *testing.T) {
	v1 := loadFixture(t, "v1", "support_v1.json")
	s := &session{t: t, brain: newBrain(t, v1), bot: dialog.V1ID(v1.Name), locale: "en_US"}
	play(t, s, []step{
		{"where is my order", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
		{"no clue", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
		{"none", "ElicitSlot/OrderNumber OrderStatus InProgress None", ""},
		{"nothing", "Close OrderStatus Failed None", "PlainText:Sorry, I could not understand. Goodbye."},
	})
}

func TestVariationsAreSeeded(t *testing.T) {
	bot := shopBot()
	g := &bot.Locales["en_US"].Intent("TalkToHuman").Closing.Groups[0]
	g.Variations = []export.Message{text("v1"), text("v2"), text("v3")}
	run := func(seed uint64) string {
		b, err := dialog.New([]*export.Bot{bot}, dialog.Options{Now: fixedNow, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		var seq []string
		for range 30 {
			s := &session{t: t, brain: b, bot: shopID, locale: "en_US"}
			seq = append(seq, contents(s.say("talk to a human")))
		}
		return strings.Join(seq, ",")
	}
	a, b := run(1), run(1)
	if a != b {
		t.Fatal("the same seed picked different variations")
	}
	for _, v := range []string{"PlainText:v1", "PlainText:v2", "PlainText:v3", "SSML:<speak>"} {
		if !strings.Contains(a, v) {
			t.Fatalf("variation %s never picked in %s", v, a)
		}
	}
	if a == run(2) {
		t.Fatal("a different seed picked the same 30 variations")
	}
}

func TestNew(t *testing.T) {
	v1 := loadFixture(t, "v1", "support_v1.json")
	of := loadFixture(t, "orderflowers")
	b := newBrain(t, shopBot(), v1, of)

	names := []string{}
	for _, info := range b.Bots() {
		names = append(names, info.Name+"/"+info.ID)
	}
	want := "OrderFlowers/ORDERFLWRS ShopBot/SHOPBOT001 SupportBotV1/" + dialog.V1ID("SupportBotV1")
	if strings.Join(names, " ") != want {
		t.Fatalf("Bots() = %v, want %s", names, want)
	}
	info, ok := b.Bot(shopID)
	if !ok || info.Description != "test shop" || !info.Created.Equal(clock) {
		t.Fatalf("Bot = %+v, %v", info, ok)
	}
	alias, ok := info.Alias("TSTALIASID")
	if !ok || alias.Name != "TestBotAlias" || alias.BotVersion != "DRAFT" || len(alias.Locales) != 2 ||
		!alias.Locales["en_US"].Enabled || !alias.Locales["es_US"].Enabled {
		t.Fatalf("alias %+v", alias)
	}
	alias.Locales["en_US"] = lexlocal.AliasLocale{}
	if again, _ := b.Bot(shopID); !again.Aliases[0].Locales["en_US"].Enabled {
		t.Fatal("a caller changed the Brain's alias")
	}
	if _, ok := b.Bot("NOSUCHBOT1"); ok {
		t.Fatal("unknown bot found")
	}

	id := dialog.V1ID("SupportBotV1")
	if len(id) != 10 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" || dialog.V1ID("SupportBotV1") != id || dialog.V1ID("Other") == id {
		t.Fatalf("V1ID = %q", id)
	}
}

func TestNewErrors(t *testing.T) {
	dup := shopBot()
	dup.Name = "Twin"
	badUtterance := shopBot()
	badUtterance.Locales["es_US"].Intents[1].Utterances = []string{"pedido {Missing}"}
	badID := shopBot()
	badID.ID = "short"
	empty := shopBot()
	empty.Locales = nil
	for _, tc := range []struct {
		name string
		bots []*export.Bot
		want []string
	}{
		{"duplicate id", []*export.Bot{shopBot(), dup}, []string{`"ShopBot"`, `"Twin"`, shopID}},
		{"locale does not compile", []*export.Bot{badUtterance}, []string{`"ShopBot"`, "es_US", "Missing"}},
		{"bad id", []*export.Bot{badID}, []string{`"short"`}},
		{"no locales", []*export.Bot{empty}, []string{"no locales"}},
		{"nil bot", []*export.Bot{nil}, []string{"nil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := dialog.New(tc.bots, dialog.Options{})
			if err == nil || b != nil {
				t.Fatalf("New = %v, %v; want an error", b, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestRecognizeUnknownBotOrLocale(t *testing.T) {
	b := newBrain(t, shopBot())
	for _, in := range []lexlocal.RecognizeInput{
		{BotID: "NOSUCHBOT1", LocaleID: "en_US", Text: "hi"},
		{BotID: shopID, LocaleID: "fr_FR", Text: "hi"},
	} {
		_, err := b.Recognize(context.Background(), in)
		var lerr *lexlocal.Error
		if !errors.As(err, &lerr) || lerr.Type != lexlocal.ErrResourceNotFound {
			t.Errorf("%s/%s: err %v, want ResourceNotFoundException", in.BotID, in.LocaleID, err)
		}
	}
}

// One Brain serves many sessions at once; run with -race.
func TestConcurrentSessions(t *testing.T) {
	b := newBrain(t, shopBot())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &session{t: t, brain: b, bot: shopID, locale: "en_US"}
			for range 20 {
				s.state = lexlocal.SessionState{SessionAttributes: map[string]string{"n": string(rune('a' + i))}}
				if got := summary(s.say("track my order 42")); got != "ConfirmIntent OrderStatus InProgress None" {
					t.Errorf("got %s", got)
					return
				}
				if got := summary(s.say("yes")); got != "Close OrderStatus Fulfilled Confirmed" {
					t.Errorf("got %s", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
