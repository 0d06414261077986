package lexlocal_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

const (
	botID   = "ECHOBOT001"
	aliasID = "TSTALIASID"
	prodID  = "PRODALIAS1"
)

// echoBrain is the stand-in Brain for wire tests: one intent, Echo, with one
// slot, Word. "say X" fills the slot and closes; anything else elicits it.
// "error:<Type>" makes it fail with that AWS error, "boom" with a plain error.
type echoBrain struct{}

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (echoBrain) Bot(id string) (lexlocal.BotInfo, bool) {
	if id != botID {
		return lexlocal.BotInfo{}, false
	}
	return lexlocal.BotInfo{
		ID: botID, Name: "EchoBot", Description: "echoes", IdleSessionTTL: 10 * time.Minute,
		Created: created, Updated: created.Add(time.Hour),
		Aliases: []lexlocal.AliasInfo{
			{ID: aliasID, Name: "TestBotAlias", BotVersion: "DRAFT", Locales: map[string]lexlocal.AliasLocale{
				"en_US": {Enabled: true}, "es_419": {Enabled: true}, "fr_FR": {Enabled: false},
			}},
			{ID: prodID, Name: "prod", BotVersion: "1", Locales: map[string]lexlocal.AliasLocale{
				"en_US": {Enabled: true, LambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:hook"},
			}},
		},
	}, true
}

func (b echoBrain) Bots() []lexlocal.BotInfo {
	info, _ := b.Bot(botID)
	return []lexlocal.BotInfo{info}
}

func (echoBrain) Recognize(_ context.Context, in lexlocal.RecognizeInput) (lexlocal.RecognizeOutput, error) {
	if typ, ok := strings.CutPrefix(in.Text, "error:"); ok {
		return lexlocal.RecognizeOutput{}, &lexlocal.Error{Type: typ, Message: "asked for " + typ}
	}
	if in.Text == "boom" {
		return lexlocal.RecognizeOutput{}, errors.New("secret internal detail")
	}
	attrs := map[string]string{}
	for k, v := range in.SessionState.SessionAttributes {
		attrs[k] = v
	}
	n, _ := strconv.Atoi(attrs["turns"])
	attrs["turns"] = strconv.Itoa(n + 1)

	word, said := strings.CutPrefix(in.Text, "say ")
	intent := &lexlocal.Intent{Name: "Echo", Slots: map[string]*lexlocal.Slot{"Word": nil}, ConfirmationState: "None"}
	out := lexlocal.RecognizeOutput{}
	if said {
		intent.Slots["Word"] = &lexlocal.Slot{Value: &lexlocal.SlotValue{OriginalValue: word, InterpretedValue: word, ResolvedValues: []string{word}}}
		intent.State = "Fulfilled"
		out.SessionState = lexlocal.SessionState{DialogAction: &lexlocal.DialogAction{Type: "Close"}, Intent: intent, SessionAttributes: attrs}
		out.Messages = []lexlocal.Message{{Content: word, ContentType: "PlainText"}}
	} else {
		intent.State = "InProgress"
		out.SessionState = lexlocal.SessionState{DialogAction: &lexlocal.DialogAction{Type: "ElicitSlot", SlotToElicit: "Word"}, Intent: intent, SessionAttributes: attrs}
		out.Messages = []lexlocal.Message{
			{Content: "What should I say?", ContentType: "PlainText"},
			{ContentType: "ImageResponseCard", ImageResponseCard: &lexlocal.ImageResponseCard{
				Title: "Pick", Buttons: []lexlocal.Button{{Text: "Hi", Value: "say hi"}},
			}},
		}
	}
	out.Interpretations = []lexlocal.Interpretation{
		{Intent: intent, NLUConfidence: &lexlocal.ConfidenceScore{Score: 0.91}, InterpretationSource: "Lex"},
		{Intent: &lexlocal.Intent{Name: "FallbackIntent"}, InterpretationSource: "Lex"},
	}
	return out, nil
}
