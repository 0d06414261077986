package demobot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

var locales = []string{"en_US", "es_419"}

func load(t testing.TB) *export.Bot {
	t.Helper()
	bot, err := demobot.Load()
	if err != nil {
		t.Fatal(err)
	}
	return bot
}

func TestLoad(t *testing.T) {
	bot := load(t)
	if bot.ID != demobot.ID || bot.Name != "SwitchboardDemo" || bot.V1 {
		t.Fatalf("bot = %q %q (V1 %v)", bot.ID, bot.Name, bot.V1)
	}
	var got []string
	for id := range bot.Locales {
		got = append(got, id)
	}
	slices.Sort(got)
	if !slices.Equal(got, locales) {
		t.Fatalf("locales = %v, want %v", got, locales)
	}
	// Load hands out a fresh copy each time, so one caller's changes never
	// reach another.
	bot.Locales["en_US"].Intents[0].Name = "Changed"
	if again := load(t); again.Locales["en_US"].Intents[0].Name == "Changed" {
		t.Fatal("Load returned shared state")
	}
}

func names(l *export.Locale) []string {
	var out []string
	for _, in := range l.Intents {
		out = append(out, in.Name)
	}
	return out
}

// messages lists every message an intent can send: closing and initial
// responses, slot prompts and their variations.
func messages(in *export.Intent) []export.Message {
	var out []export.Message
	add := func(g *export.MessageGroups) {
		if g == nil {
			return
		}
		for _, mg := range g.Groups {
			out = append(out, mg.Message)
			out = append(out, mg.Variations...)
		}
	}
	add(in.Closing)
	add(in.Initial)
	add(in.Declination)
	if in.Confirmation != nil {
		add(&in.Confirmation.MessageGroups)
	}
	for _, s := range in.Slots {
		if s.Prompt != nil {
			add(&s.Prompt.MessageGroups)
		}
	}
	return out
}

// envelope parses a CustomPayload the way the Lex connector does and fails
// on any warning: the demo bot is the example bot builders copy from.
func envelope(t *testing.T, where, payload string) richmsg.Envelope {
	t.Helper()
	e, err := richmsg.ParseEnvelope([]byte(payload))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if e.Platform != "kommunicate" || strings.TrimSpace(e.Message) == "" {
		t.Fatalf("%s: platform %q, message %q: want a kommunicate envelope with visible text", where, e.Platform, e.Message)
	}
	if _, hasTemplate := e.Metadata[chat.MetaTemplateID]; hasTemplate {
		if _, warns, err := richmsg.Validate(e.Metadata); err != nil || len(warns) > 0 {
			t.Fatalf("%s: rich payload: %v %v", where, err, warns)
		}
	}
	reply, warns := e.Reply()
	if len(warns) > 0 {
		t.Fatalf("%s: warnings %v", where, warns)
	}
	if reply.Metadata[chat.MetaTemplateID] != e.Metadata[chat.MetaTemplateID] {
		t.Fatalf("%s: templateId %q became %q", where, e.Metadata[chat.MetaTemplateID], reply.Metadata[chat.MetaTemplateID])
	}
	return e
}

func TestEveryMessageIsValid(t *testing.T) {
	bot := load(t)
	for _, id := range locales {
		for _, in := range bot.Locales[id].Intents {
			for i, m := range messages(in) {
				where := fmt.Sprintf("%s/%s message %d", id, in.Name, i)
				switch m.Kind {
				case export.CustomPayload:
					envelope(t, where, m.Text)
				case export.ImageResponseCard:
					var buttons []richmsg.LexButton
					for _, b := range m.Card.Buttons {
						buttons = append(buttons, richmsg.LexButton{Text: b.Text, Value: b.Value})
					}
					meta, warns := richmsg.FromLexCard(m.Card.Title, m.Card.Subtitle, m.Card.ImageURL, buttons)
					if len(warns) > 0 {
						t.Fatalf("%s: card warnings %v", where, warns)
					}
					if _, warns, err := richmsg.Validate(meta); err != nil || len(warns) > 0 {
						t.Fatalf("%s: card: %v %v", where, err, warns)
					}
				case export.PlainText:
					if strings.TrimSpace(m.Text) == "" {
						t.Fatalf("%s: empty text", where)
					}
				default:
					t.Fatalf("%s: unexpected %v message", where, m.Kind)
				}
			}
		}
	}
}

// kinds tallies an intent's closing messages, and returns the parsed
// envelopes of its custom payloads.
func closing(t *testing.T, where string, in *export.Intent) (map[export.MessageKind]int, []richmsg.Envelope) {
	t.Helper()
	if in.Closing == nil {
		t.Fatalf("%s: no closing response", where)
	}
	kinds := map[export.MessageKind]int{}
	var envs []richmsg.Envelope
	for _, g := range in.Closing.Groups {
		for _, m := range append([]export.Message{g.Message}, g.Variations...) {
			kinds[m.Kind]++
			if m.Kind == export.CustomPayload {
				envs = append(envs, envelope(t, where, m.Text))
			}
		}
	}
	return kinds, envs
}

// template decodes the first envelope carrying templateId id.
func template(envs []richmsg.Envelope, id string) (richmsg.Template, error) {
	for _, e := range envs {
		if e.Metadata[chat.MetaTemplateID] == id {
			tmpl, _, err := richmsg.Decode(e.Metadata)
			return tmpl, err
		}
	}
	return nil, nil
}

func TestIntents(t *testing.T) {
	bot := load(t)
	want := names(bot.Locales["en_US"])
	for _, id := range locales {
		loc := bot.Locales[id]
		if got := names(loc); !slices.Equal(got, want) {
			t.Fatalf("%s intents %v, en_US has %v", id, got, want)
		}
		intent := func(name string) *export.Intent {
			in := loc.Intent(name)
			if in == nil {
				t.Fatalf("%s: no intent %s", id, name)
			}
			return in
		}

		welcome := intent("Welcome")
		if !slices.Equal(welcome.Utterances, []string{"kmConversationStarted"}) {
			t.Errorf("%s Welcome utterances %v", id, welcome.Utterances)
		}
		_, envs := closing(t, id+"/Welcome", welcome)
		tmpl, _ := template(envs, richmsg.TemplateQuickReplies)
		if qr, _ := tmpl.(richmsg.QuickReplies); len(qr) < 3 {
			t.Errorf("%s Welcome: want quick replies (templateId 6), got %v", id, envs)
		}

		order := intent("OrderStatus")
		if len(order.Slots) != 1 || order.Slots[0].Name != "OrderNumber" || order.Slots[0].Type != "AMAZON.AlphaNumeric" ||
			!order.Slots[0].Required || order.Slots[0].Prompt == nil || order.Slots[0].Prompt.MaxRetries < 1 {
			t.Errorf("%s OrderStatus slots %+v", id, order.Slots)
		}
		closing(t, id+"/OrderStatus", order)
		for _, g := range order.Closing.Groups {
			for _, m := range append([]export.Message{g.Message}, g.Variations...) {
				if !strings.Contains(m.Text, "{OrderNumber}") {
					t.Errorf("%s OrderStatus closing %q does not name the order", id, m.Text)
				}
			}
		}
		if !slices.ContainsFunc(order.Utterances, func(u string) bool { return strings.Contains(u, "{OrderNumber}") }) {
			t.Errorf("%s OrderStatus has no utterance carrying the order number", id)
		}

		_, envs = closing(t, id+"/Products", intent("Products"))
		tmpl, _ = template(envs, richmsg.TemplateCards)
		if cards, _ := tmpl.(richmsg.Cards); len(cards) < 2 {
			t.Errorf("%s Products: want a carousel (templateId 10) of several cards, got %v", id, envs)
		}

		if kinds, _ := closing(t, id+"/ContactUs", intent("ContactUs")); kinds[export.ImageResponseCard] == 0 {
			t.Errorf("%s ContactUs: no image response card", id)
		}

		_, envs = closing(t, id+"/TalkToHuman", intent("TalkToHuman"))
		if len(envs) != 1 {
			t.Fatalf("%s TalkToHuman: %d custom payloads, want 1", id, len(envs))
		}
		if v, ok := envs[0].Metadata[chat.MetaAssignTo]; !ok || v != "" {
			t.Errorf("%s TalkToHuman: KM_ASSIGN_TO = %q (present %v), want empty", id, v, ok)
		}

		if att := intent("Attachment"); !slices.Contains(att.Utterances, "kommunicateMediaEvent") {
			t.Errorf("%s Attachment does not answer kommunicateMediaEvent", id)
		}
		if kinds, _ := closing(t, id+"/Attachment", intent("Attachment")); kinds[export.PlainText] == 0 {
			t.Errorf("%s Attachment: no thank-you text", id)
		}

		fb := intent(nlu.FallbackIntent)
		if fb.ParentSignature != "AMAZON.FallbackIntent" || len(fb.Utterances) != 0 {
			t.Errorf("%s FallbackIntent: parent %q, utterances %v", id, fb.ParentSignature, fb.Utterances)
		}
		closing(t, id+"/FallbackIntent", fb)

		// Enough varied samples that the matcher has something to learn
		// from, and no sample claimed by two intents.
		owner := map[string]string{}
		for _, in := range loc.Intents {
			if in.ParentSignature != "" || in.Name == "Welcome" {
				continue
			}
			if len(in.Utterances) < 15 {
				t.Errorf("%s %s: %d sample utterances, want at least 15", id, in.Name, len(in.Utterances))
			}
			for _, u := range in.Utterances {
				n := nlu.Normalize(u)
				if o, dup := owner[n]; dup {
					t.Errorf("%s: %q is a sample of both %s and %s", id, u, o, in.Name)
				}
				owner[n] = in.Name
			}
		}
	}
}
