package dialog_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/dialog"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
)

// clock is the fixed "now" of every test: Friday 2 January 2026.
var clock = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func fixedNow() time.Time { return clock }

const shopID = "SHOPBOT001"

func text(s string) export.Message { return export.Message{Kind: export.PlainText, Text: s} }

func groups(ms ...export.Message) *export.MessageGroups {
	mg := &export.MessageGroups{}
	for _, m := range ms {
		mg.Groups = append(mg.Groups, export.MessageGroup{Message: m})
	}
	return mg
}

// shopBot is a small V2 bot that exercises every rule: an intent with a
// required and an optional slot, an initial response, a confirmation, a
// closing response of three groups (text, custom payload, card), a
// slotless intent answering in SSML, a FallbackIntent with a closing
// response, and a Spanish locale.
func shopBot() *export.Bot {
	en := &export.Locale{
		ID: "en_US", ConfidenceThreshold: 0.4,
		SlotTypes: map[string]*export.SlotType{"Product": {
			Name: "Product", Strategy: export.TopResolution,
			Values: []export.SlotValue{{Value: "laptop", Synonyms: []string{"notebook"}}, {Value: "phone"}},
		}},
		Intents: []*export.Intent{
			{Name: "FallbackIntent", ParentSignature: "AMAZON.FallbackIntent", Closing: groups(text("Sorry, I did not get that."))},
			{
				Name:       "OrderStatus",
				Utterances: []string{"where is my order", "track my order {OrderNumber}", "status of my {Product} order"},
				Slots: []*export.Slot{
					{Name: "OrderNumber", Type: "AMAZON.Number", Required: true, Prompt: &export.Prompt{
						MessageGroups: *groups(text("What is your order number, [name]?")), MaxRetries: 1,
					}},
					{Name: "Product", Type: "Product", Prompt: &export.Prompt{MessageGroups: *groups(text("Which product?")), MaxRetries: 1}},
				},
				Initial:      groups(text("Let me check that.")),
				Confirmation: &export.Prompt{MessageGroups: *groups(text("Look up order {OrderNumber}?")), MaxRetries: 1},
				Declination:  groups(text("Okay, never mind.")),
				Closing: groups(
					text("Order {OrderNumber} ({Product}) ships to [city]."),
					export.Message{Kind: export.CustomPayload, Text: `{"platform":"kommunicate","message":"Order {OrderNumber}","metadata":{"templateId":"6"}}`},
					export.Message{Kind: export.ImageResponseCard, Card: &export.Card{
						Title: "Order {OrderNumber}", Subtitle: "for [name]", ImageURL: "https://example.com/{OrderNumber}.png",
						Buttons: []export.Button{{Text: "Track", Value: "track my order {OrderNumber}"}},
					}},
				),
			},
			{
				Name:       "TalkToHuman",
				Utterances: []string{"talk to a human", "speak to an agent", "I want a person"},
				Closing:    groups(export.Message{Kind: export.SSML, Text: "<speak>Connecting you now.</speak>"}),
			},
		},
	}
	es := &export.Locale{
		ID: "es_US", ConfidenceThreshold: 0.4,
		Intents: []*export.Intent{
			{Name: "FallbackIntent", ParentSignature: "AMAZON.FallbackIntent", Closing: groups(text("Lo siento, no entendí."))},
			{
				Name:       "OrderStatus",
				Utterances: []string{"dónde está mi pedido", "estado de mi pedido {OrderNumber}"},
				Slots: []*export.Slot{{Name: "OrderNumber", Type: "AMAZON.Number", Required: true, Prompt: &export.Prompt{
					MessageGroups: *groups(text("¿Cuál es su número de pedido?")), MaxRetries: 1,
				}}},
				Confirmation: &export.Prompt{MessageGroups: *groups(text("¿Busco el pedido {OrderNumber}?")), MaxRetries: 1},
				Declination:  groups(text("Vale, lo dejamos.")),
				Closing:      groups(text("El pedido {OrderNumber} fue enviado.")),
			},
		},
	}
	return &export.Bot{
		ID: shopID, Name: "ShopBot", Description: "test shop", IdleSessionTTL: 10 * time.Minute,
		Locales: map[string]*export.Locale{"en_US": en, "es_US": es},
	}
}

func loadFixture(t testing.TB, path ...string) *export.Bot {
	t.Helper()
	b, err := export.Load(filepath.Join(append([]string{"..", "export", "testdata"}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newBrain(t testing.TB, bots ...*export.Bot) *dialog.Brain {
	t.Helper()
	b, err := dialog.New(bots, dialog.Options{Now: fixedNow, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// session drives one conversation through a Brain the way the server
// does: the state one turn returns is the state the next turn receives.
type session struct {
	t      testing.TB
	brain  *dialog.Brain
	bot    string
	locale string
	state  lexlocal.SessionState
}

func (s *session) say(text string) lexlocal.RecognizeOutput {
	s.t.Helper()
	out, err := s.brain.Recognize(context.Background(), lexlocal.RecognizeInput{
		BotID: s.bot, AliasID: dialog.TestAliasID, LocaleID: s.locale, SessionID: "s-1",
		Text: text, SessionState: s.state,
	})
	if err != nil {
		s.t.Fatalf("%q: %v", text, err)
	}
	s.state = out.SessionState
	return out
}

// contents joins the turn's messages as "Type:content" lines, cards as
// their title and button values, so one string compares a whole answer.
func contents(out lexlocal.RecognizeOutput) string {
	var parts []string
	for _, m := range out.Messages {
		c := m.Content
		if card := m.ImageResponseCard; card != nil {
			c = card.Title + "|" + card.Subtitle + "|" + card.ImageURL
			for _, b := range card.Buttons {
				c += "|" + b.Text + "=" + b.Value
			}
		}
		parts = append(parts, m.ContentType+":"+c)
	}
	return strings.Join(parts, "\n")
}

// summary is "Action[/slot] Intent State Confirmation".
func summary(out lexlocal.RecognizeOutput) string {
	st := out.SessionState
	s := "<nil>"
	if st.DialogAction != nil {
		s = st.DialogAction.Type
		if st.DialogAction.SlotToElicit != "" {
			s += "/" + st.DialogAction.SlotToElicit
		}
	}
	if in := st.Intent; in != nil {
		s += " " + in.Name + " " + in.State + " " + in.ConfirmationState
	}
	return s
}
