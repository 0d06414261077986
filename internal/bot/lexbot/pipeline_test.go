package lexbot

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// The connector under the real turn runner: throttling is retried within
// the turn's deadline (and only by the runner), refused credentials fail
// at once for admins to see.
func TestUnderTurnRunner(t *testing.T) {
	lex := lextest.New(t)
	h := newHarness()
	run := turn.New(turn.Options{
		Connectors: map[chat.BotType]bot.Connector{chat.BotLex: h.conn},
		Deadline:   3 * time.Second,
		Backoff:    turn.Backoff{Base: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		Logger:     slog.New(slog.DiscardHandler),
	})

	lex.Script(lextest.Error(429, "ThrottlingException", "Rate exceeded"), lextest.Error(429, "ThrottlingException", "Rate exceeded"), lextest.Answer{Body: lextest.OK})
	o := run.Run(context.Background(), turnFor(t, settingsFor(lex.URL), "hi"), nil)
	if o.Failed != nil || o.Attempts != 3 || len(o.Replies) != 1 || o.Replies[0].Text != "Hello!" || o.State == nil {
		t.Errorf("throttled turn: %+v (failed %+v)", o, o.Failed)
	}
	if n := lex.Count(); n != 3 {
		t.Errorf("Lex got %d requests, want 3", n)
	}

	lex.Script(lextest.Error(403, "AccessDeniedException", "not authorized"))
	o = run.Run(context.Background(), turnFor(t, settingsFor(lex.URL), "hi"), nil)
	if o.Failed == nil || o.Failed.Kind != bot.Unauthorized || o.Attempts != 1 || !strings.Contains(o.Failed.Message, "AmazonLexRunBotsOnly") {
		t.Errorf("denied turn: %+v (failed %+v)", o, o.Failed)
	}
	if tr, ok := o.Trigger(); !ok || tr.Kind != chat.TriggerBotFailed {
		t.Errorf("denied turn trigger = %+v, %v", tr, ok)
	}
}

// Against the local Lex runtime, which verifies SigV4 against its keys
// and keeps its own sessions: the connector's signature is accepted, state
// goes round, and a wrong secret is refused as an Unauthorized failure.
func TestAgainstLocalRuntime(t *testing.T) {
	local, err := lexlocal.New(lexlocal.Options{AccessKeyID: testKeyID, SecretAccessKey: testSecret, Brain: benchBrain{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(local)
	t.Cleanup(srv.Close)
	h := newHarness()
	s := settingsFor(srv.URL, func(s *Settings) { s.Region = benchRegion; s.Locales = []string{"en_US"} })

	res := h.turn(t, turnFor(t, s, "hello"), nil)
	res = h.turn(t, turnFor(t, s, "hello again"), res.State)
	st, _ := decodeState(res.State)
	if st.SessionAttributes["turns"] != "II" || len(res.Replies) != 2 || res.Replies[1].Metadata[chat.MetaTemplateID] != "6" || res.Intent != "Greeting" {
		t.Errorf("result = %+v, state %+v", res, st)
	}

	wrong := settingsFor(srv.URL, func(s *Settings) {
		s.Region, s.Locales, s.SecretAccessKey = benchRegion, []string{"en_US"}, "not-the-right-secret-at-all"
	})
	_, err = h.conn.Turn(context.Background(), turnFor(t, wrong, "hello"), nil)
	if bot.KindOf(err) != bot.Unauthorized || strings.Contains(err.Error(), "not-the-right-secret-at-all") {
		t.Errorf("wrong secret: %v", err)
	}
}
