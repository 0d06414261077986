package botrun_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// The contact panel names the intent Lex interpreted in the bot's last
// turn, with the session attributes that turn left, in a conversation that
// was never handed off; each new turn replaces it.
func TestLexLastTurnIntentInContactPanel(t *testing.T) {
	le := newLexEnv(t, lexOpts{})
	le.lex.Script(byText(map[string]lextest.Answer{
		lexbot.WelcomeText: lextest.Response{
			Messages:          lextest.Messages(lextest.PlainText("Hello")),
			Intent:            lextest.Intent("Greeting", "Fulfilled", ""),
			DialogAction:      `{"type":"Close"}`,
			SessionAttributes: `{"step":"greeted"}`,
		}.Answer(),
		"where is my order": lextest.Response{
			Messages:          lextest.Messages(lextest.PlainText("Order 42 ships today")),
			Intent:            lextest.Intent("OrderStatus", "Fulfilled", ""),
			DialogAction:      `{"type":"Close"}`,
			SessionAttributes: `{"step":"answered","order":"42"}`,
		}.Answer(),
	}))
	c := le.begin(service.NewConversation{})
	panel := func(wantIntent string) *service.BotContext {
		t.Helper()
		le.settle(c)
		bc, err := le.svc.BotContext(le.ctx, le.admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bc.BotID != le.lexID || bc.LastIntent != wantIntent || bc.LastHandoff != nil {
			t.Fatalf("bot context = %+v, want intent %q", bc, wantIntent)
		}
		return bc
	}
	le.waitMessage(c, fromBot("Hello"))
	panel("Greeting")
	le.contactSays(c, "where is my order", nil)
	le.waitMessage(c, fromBot("Order 42 ships today"))
	if bc := panel("OrderStatus"); bc.SessionAttributes["order"] != "42" || bc.SessionAttributes["step"] != "answered" {
		t.Fatalf("session attributes = %v", bc.SessionAttributes)
	}
	le.contactSays(c, "thanks", nil)
	le.waitMessage(c, fromBot("you said thanks"))
	panel("Chat")
}
