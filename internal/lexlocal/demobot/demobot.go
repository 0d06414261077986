// Package demobot is the support bot that ships with the local Lex runtime,
// so a newcomer sees a welcome, rich messages and a handoff work without an
// AWS account. It is an ordinary Lex V2 LexJson export (in bot/), loaded by
// the same code as a user's export: whatever the demo shows, an imported bot
// can do too.
//
// Locales en_US and es_419 hold the same intents: Welcome
// (kmConversationStarted, with quick replies), OrderStatus (an order-number
// slot), Products (a card carousel), ContactUs (an image response card),
// TalkToHuman (KM_ASSIGN_TO), Attachment (kommunicateMediaEvent), Greeting,
// Thanks, Goodbye, Shipping, Returns and FallbackIntent.
package demobot

import (
	"embed"
	"io/fs"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
)

// ID is the demo bot's id (Bot.json's identifier); clients reach it on the
// test alias TSTALIASID.
const ID = "SBDEMOBOT1"

//go:embed bot
var files embed.FS

// Load returns a freshly loaded copy of the demo bot. Each call parses the
// export again, so callers may keep or change what they get.
func Load() (*export.Bot, error) {
	sub, err := fs.Sub(files, "bot")
	if err != nil {
		return nil, err
	}
	return export.LoadFS(sub, "demo bot")
}
