package lexlocaltest

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// The ids and names of the bots and aliases in Brain.
const (
	OrderBotID     = "ORDERBOT01"
	OrderBotName   = "OrderBot"
	SupportBotID   = "SUPPORTB01"
	SupportBotName = "SupportBot"

	// TestAliasID is Lex's built-in draft alias; on OrderBot it enables
	// en_US and es_419 and has fr_FR switched off.
	TestAliasID   = "TSTALIASID"
	TestAliasName = "TestBotAlias"
	// ProdAliasID is OrderBot's published alias, enabling de_DE and en_US.
	ProdAliasID   = "PRODALIAS1"
	ProdAliasName = "prod"
	// LiveAliasID is SupportBot's only alias, enabling en_GB.
	LiveAliasID   = "LIVEALIAS1"
	LiveAliasName = "live"
)

var created = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// Brain is a fixed pair of bots. Every turn closes an "Echo" intent and
// answers with the contact's text, which is all a test of the wire needs.
var Brain lexlocal.Brain = fixedBrain{}

type fixedBrain struct{}

// bots is sorted by name, then id, as Brain.Bots promises.
func (fixedBrain) Bots() []lexlocal.BotInfo {
	return []lexlocal.BotInfo{
		{
			ID: OrderBotID, Name: OrderBotName, Description: "order status and returns",
			Created: created, Updated: created.Add(time.Hour),
			Aliases: []lexlocal.AliasInfo{
				{ID: TestAliasID, Name: TestAliasName, BotVersion: "DRAFT", Locales: map[string]lexlocal.AliasLocale{
					"en_US": {Enabled: true}, "es_419": {Enabled: true}, "fr_FR": {Enabled: false},
				}},
				{ID: ProdAliasID, Name: ProdAliasName, BotVersion: "1", Locales: map[string]lexlocal.AliasLocale{
					"en_US": {Enabled: true}, "de_DE": {Enabled: true},
				}},
			},
		},
		{
			ID: SupportBotID, Name: SupportBotName, Created: created, Updated: created,
			Aliases: []lexlocal.AliasInfo{
				{ID: LiveAliasID, Name: LiveAliasName, BotVersion: "3", Locales: map[string]lexlocal.AliasLocale{
					"en_GB": {Enabled: true},
				}},
			},
		},
	}
}

func (b fixedBrain) Bot(id string) (lexlocal.BotInfo, bool) {
	for _, bot := range b.Bots() {
		if bot.ID == id {
			return bot, true
		}
	}
	return lexlocal.BotInfo{}, false
}

func (fixedBrain) Recognize(_ context.Context, in lexlocal.RecognizeInput) (lexlocal.RecognizeOutput, error) {
	attrs := make(map[string]string, len(in.SessionState.SessionAttributes))
	for k, v := range in.SessionState.SessionAttributes {
		attrs[k] = v
	}
	intent := &lexlocal.Intent{Name: "Echo", State: "Fulfilled", ConfirmationState: "None"}
	return lexlocal.RecognizeOutput{
		SessionState: lexlocal.SessionState{
			DialogAction: &lexlocal.DialogAction{Type: "Close"}, Intent: intent, SessionAttributes: attrs,
		},
		Messages:        []lexlocal.Message{{Content: in.Text, ContentType: "PlainText"}},
		Interpretations: []lexlocal.Interpretation{{Intent: intent, NLUConfidence: &lexlocal.ConfidenceScore{Score: 1}, InterpretationSource: "Lex"}},
	}, nil
}
