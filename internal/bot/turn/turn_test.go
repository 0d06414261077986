package turn_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

// slack is what a bounded Run may overrun its deadline by: scheduling,
// the race detector and a loaded CI machine, not retries.
const slack = 300 * time.Millisecond

// fastBackoff keeps the retry tests short without changing their shape.
var fastBackoff = turn.Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// webhookBot is a real HTTP bot: each request is answered by answer,
// given its 1-based number. It records when each request arrived.
type webhookBot struct {
	answer func(n int, w http.ResponseWriter, r *http.Request)

	mu    sync.Mutex
	times []time.Time
}

func (b *webhookBot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	b.mu.Lock()
	b.times = append(b.times, time.Now())
	n := len(b.times)
	b.mu.Unlock()
	b.answer(n, w, r)
}

func (b *webhookBot) hits() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Time(nil), b.times...)
}

// reply answers every request with status and body.
func reply(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// setup starts a webhook bot and a Runner that reaches it through the
// real webhook connector.
func setup(t *testing.T, answer func(int, http.ResponseWriter, *http.Request), o turn.Options) (*turn.Runner, bot.Turn, *webhookBot) {
	t.Helper()
	wb := &webhookBot{answer: answer}
	srv := httptest.NewServer(wb)
	t.Cleanup(srv.Close)
	settings, err := json.Marshal(webhookbot.Settings{URL: srv.URL + "/hook", TimeoutSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	o.Connectors = map[chat.BotType]bot.Connector{
		chat.BotWebhook: webhookbot.New(webhookbot.Options{AllowPrivate: true, Logger: quiet}),
	}
	o.Logger = quiet
	if o.Backoff == (turn.Backoff{}) {
		o.Backoff = fastBackoff
	}
	return turn.New(o), contactSays(&chat.Bot{ID: "bot-1", AppID: "app-1", Type: chat.BotWebhook, Name: "Helper", Enabled: true, Settings: settings}), wb
}

func contactSays(b *chat.Bot) bot.Turn {
	return bot.Turn{
		AppID: "app-1", ConversationID: "conv-1", Bot: b,
		Contact: &chat.Contact{ID: "ct-1", AppID: "app-1"},
		Message: &chat.Message{
			ID: "msg-1", AppID: "app-1", ConversationID: "conv-1", Seq: 1,
			Sender: chat.Sender{Type: chat.SenderContact, ID: "ct-1"},
			Text:   "hello", ContentType: chat.ContentText,
		},
	}
}

func texts(rs []bot.Reply) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

func hasWarning(o turn.Outcome, part string) bool {
	for _, w := range o.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func mustSucceed(t *testing.T, o turn.Outcome) {
	t.Helper()
	if o.Failed != nil || o.Cancelled {
		t.Fatalf("outcome failed=%+v cancelled=%v, want success", o.Failed, o.Cancelled)
	}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	const quickReplies = `[{"title":"Yes","message":"yes please"},{"title":"No"}]`
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, o turn.Outcome)
	}{
		{"plain reply", `[{"message":"Hi there"},{"message":"How can I help?"}]`, func(t *testing.T, o turn.Outcome) {
			if got := strings.Join(texts(o.Replies), "|"); got != "Hi there|How can I help?" {
				t.Errorf("replies = %q", got)
			}
			if o.Handoff != nil || o.GaveUp || len(o.Actions) != 0 || len(o.Warnings) != 0 {
				t.Errorf("unexpected signals: %+v", o)
			}
			if _, ok := o.Trigger(); ok {
				t.Error("a plain answer asks for a handoff")
			}
		}},
		{"quick replies kept", `[{"message":"Shall we?","metadata":{"contentType":"300","templateId":"6","payload":` + quickReplies + `}}]`, func(t *testing.T, o turn.Outcome) {
			if len(o.Replies) != 1 {
				t.Fatalf("replies = %+v", o.Replies)
			}
			m := o.Replies[0].Metadata
			if m[chat.MetaTemplateID] != "6" || !strings.Contains(m[chat.MetaPayload], `"yes please"`) {
				t.Errorf("rich message lost: %v", m)
			}
			if len(o.Warnings) != 0 {
				t.Errorf("warnings = %q", o.Warnings)
			}
		}},
		{"invalid rich payload degraded to text", `[{"message":"Pick one","metadata":{"templateId":"6","payload":"[{title: oops}]"}}]`, func(t *testing.T, o turn.Outcome) {
			if len(o.Replies) != 1 || o.Replies[0].Text != "Pick one" {
				t.Fatalf("replies = %+v", o.Replies)
			}
			if _, ok := o.Replies[0].Metadata[chat.MetaTemplateID]; ok {
				t.Errorf("the invalid template is still there: %v", o.Replies[0].Metadata)
			}
			if !hasWarning(o, "message 1: rich message (templateId 6) was sent as text") {
				t.Errorf("warnings = %q", o.Warnings)
			}
		}},
		{"KM_ASSIGN_TO mid-list stops the turn", `[{"message":"Let me check"},{"message":"Passing you to Ana","metadata":{"KM_ASSIGN_TO":"ana@example.com"}},{"message":"never seen"},{"message":"nor this"}]`, func(t *testing.T, o turn.Outcome) {
			if got := strings.Join(texts(o.Replies), "|"); got != "Let me check|Passing you to Ana" {
				t.Errorf("replies = %q", got)
			}
			if o.Handoff == nil || o.Handoff.Kind != chat.TriggerAssignTo || o.Handoff.Target != "ana@example.com" {
				t.Fatalf("handoff = %+v", o.Handoff)
			}
			if !hasWarning(o, "the 2 message(s) after it were not posted") {
				t.Errorf("warnings = %q", o.Warnings)
			}
			if tr, ok := o.Trigger(); !ok || tr != *o.Handoff {
				t.Errorf("Trigger() = %+v, %v", tr, ok)
			}
		}},
		{"empty KM_ASSIGN_TO means routing rules", `[{"message":"A person will help","metadata":{"KM_ASSIGN_TO":""}}]`, func(t *testing.T, o turn.Outcome) {
			if o.Handoff == nil || o.Handoff.Kind != chat.TriggerAssignTo || o.Handoff.Target != "" {
				t.Fatalf("handoff = %+v", o.Handoff)
			}
		}},
		{"KM_ASSIGN_TEAM", `[{"message":"Billing will take it","metadata":{"KM_ASSIGN_TEAM":"team-billing"}}]`, func(t *testing.T, o turn.Outcome) {
			if o.Handoff == nil || o.Handoff.Kind != chat.TriggerAssignTeam || o.Handoff.TeamID != "team-billing" {
				t.Fatalf("handoff = %+v", o.Handoff)
			}
			if len(o.Replies) != 1 || o.Replies[0].Text != "Billing will take it" {
				t.Errorf("the goodbye was not kept: %+v", o.Replies)
			}
		}},
		{"handoff without text posts nothing but still hands off", `[{"message":"one"},{"metadata":{"KM_ASSIGN_TO":""}}]`, func(t *testing.T, o turn.Outcome) {
			if got := strings.Join(texts(o.Replies), "|"); got != "one" {
				t.Errorf("replies = %q", got)
			}
			if o.Handoff == nil {
				t.Error("no handoff")
			}
		}},
		{"actionRequest surfaced", `[{"message":"Glad I could help","metadata":{"actionRequest":"resolveConversation"}},{"message":"Rate us?","metadata":{"actionRequest":"askCSAT"}},{"metadata":{"actionRequest":"resolveConversation"}}]`, func(t *testing.T, o turn.Outcome) {
			if got := strings.Join(o.Actions, ","); got != richmsg.ActionResolveConversation+","+richmsg.ActionAskCSAT {
				t.Errorf("actions = %q", got)
			}
			if len(o.Replies) != 2 {
				t.Errorf("replies = %+v", o.Replies)
			}
		}},
		{"unknown actionRequest ignored with a warning", `[{"message":"ok","metadata":{"actionRequest":"launchRockets"}}]`, func(t *testing.T, o turn.Outcome) {
			if len(o.Actions) != 0 || !hasWarning(o, "launchRockets") {
				t.Errorf("actions = %q, warnings = %q", o.Actions, o.Warnings)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, tn, wb := setup(t, reply(200, c.body), turn.Options{})
			o := r.Run(context.Background(), tn, nil)
			mustSucceed(t, o)
			if o.Attempts != 1 || len(wb.hits()) != 1 {
				t.Errorf("attempts = %d, hits = %d", o.Attempts, len(wb.hits()))
			}
			if o.Timing.Connector <= 0 || o.Timing.Total < o.Timing.Connector {
				t.Errorf("timing = %+v", o.Timing)
			}
			c.check(t, o)
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	t.Parallel()
	r, tn, _ := setup(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, `[{"message":"back again"}]`)
	}, turn.Options{Deadline: 2 * time.Second})
	o := r.Run(context.Background(), tn, nil)
	mustSucceed(t, o)
	if o.Attempts != 2 || len(o.Replies) != 1 || o.Replies[0].Text != "back again" {
		t.Errorf("attempts = %d, replies = %+v", o.Attempts, o.Replies)
	}
	if o.Timing.Backoff <= 0 {
		t.Errorf("timing = %+v: no backoff recorded", o.Timing)
	}
}

func TestServerErrorForever(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	r, tn, wb := setup(t, reply(http.StatusInternalServerError, "boom"), turn.Options{Deadline: deadline})
	start := time.Now()
	o := r.Run(context.Background(), tn, nil)
	took := time.Since(start)
	if o.Failed == nil || o.Failed.Kind != bot.Retryable {
		t.Fatalf("failed = %+v", o.Failed)
	}
	if o.Attempts < 4 || o.Attempts != len(wb.hits()) {
		t.Errorf("attempts = %d, hits = %d; want several, equal", o.Attempts, len(wb.hits()))
	}
	if took > deadline+slack {
		t.Errorf("Run took %s, deadline %s", took, deadline)
	}
	if !strings.Contains(o.Failed.Message, "500") || len(o.Replies) != 0 {
		t.Errorf("failure = %+v, replies = %+v", o.Failed, o.Replies)
	}
	if tr, ok := o.Trigger(); !ok || tr.Kind != chat.TriggerBotFailed {
		t.Errorf("Trigger() = %+v, %v", tr, ok)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	r, tn, wb := setup(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, `[{"message":"thanks for waiting"}]`)
	}, turn.Options{Deadline: 3 * time.Second})
	o := r.Run(context.Background(), tn, nil)
	mustSucceed(t, o)
	hits := wb.hits()
	if o.Attempts != 2 || len(hits) != 2 {
		t.Fatalf("attempts = %d, hits = %d", o.Attempts, len(hits))
	}
	if gap := hits[1].Sub(hits[0]); gap < time.Second {
		t.Errorf("second attempt %s after the first; Retry-After asked for 1s", gap)
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	t.Parallel()
	// Waiting as told would overrun the deadline, and trying earlier
	// would be refused again: give up now rather than sleep for nothing.
	r, tn, _ := setup(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
	}, turn.Options{Deadline: time.Second})
	start := time.Now()
	o := r.Run(context.Background(), tn, nil)
	if o.Failed == nil || o.Failed.Kind != bot.Retryable || o.Failed.DeadlineExpired || o.Attempts != 1 {
		t.Fatalf("failed = %+v, attempts = %d", o.Failed, o.Attempts)
	}
	if took := time.Since(start); took > slack {
		t.Errorf("Run took %s; it should not wait", took)
	}
}

// slowBot never answers in time; it stops when the request is abandoned so
// that the test server can close.
func slowBot(_ int, w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(10 * time.Second):
		_, _ = io.WriteString(w, `[{"message":"too late"}]`)
	case <-r.Context().Done():
	}
}

func TestBotSlowerThanDeadline(t *testing.T) {
	t.Parallel()
	const deadline = 400 * time.Millisecond
	r, tn, _ := setup(t, slowBot, turn.Options{Deadline: deadline})
	start := time.Now()
	o := r.Run(context.Background(), tn, nil)
	took := time.Since(start)
	if o.Failed == nil || !o.Failed.DeadlineExpired || o.Failed.Kind != bot.Retryable {
		t.Fatalf("failed = %+v", o.Failed)
	}
	if took < deadline || took > deadline+slack {
		t.Errorf("Run took %s, deadline %s", took, deadline)
	}
	if o.Attempts != 1 || len(o.Replies) != 0 {
		t.Errorf("attempts = %d, replies = %+v", o.Attempts, o.Replies)
	}
}

func TestCallerDeadlineIsSooner(t *testing.T) {
	t.Parallel()
	r, tn, _ := setup(t, slowBot, turn.Options{Deadline: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	o := r.Run(ctx, tn, nil)
	if o.Cancelled || o.Failed == nil || !o.Failed.DeadlineExpired {
		t.Fatalf("cancelled = %v, failed = %+v: a caller's deadline is part of the turn's budget", o.Cancelled, o.Failed)
	}
	if took := time.Since(start); took > 300*time.Millisecond+slack {
		t.Errorf("Run took %s", took)
	}
}

func TestNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		kind   bot.Kind
	}{
		{http.StatusUnauthorized, bot.Unauthorized},
		{http.StatusForbidden, bot.Unauthorized},
		{http.StatusNotFound, bot.Misconfigured},
		{http.StatusBadRequest, bot.Misconfigured},
	}
	for _, c := range cases {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			r, tn, wb := setup(t, reply(c.status, ""), turn.Options{Deadline: 2 * time.Second})
			o := r.Run(context.Background(), tn, nil)
			if o.Failed == nil || o.Failed.Kind != c.kind || o.Failed.DeadlineExpired {
				t.Fatalf("failed = %+v, want %s", o.Failed, c.kind)
			}
			if o.Attempts != 1 || len(wb.hits()) != 1 {
				t.Errorf("attempts = %d, hits = %d", o.Attempts, len(wb.hits()))
			}
			if o.Timing.Backoff != 0 {
				t.Errorf("waited %s before giving up", o.Timing.Backoff)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		answer func(int, http.ResponseWriter, *http.Request)
	}{
		// Shutdown while the bot is thinking.
		{"mid-call", slowBot},
		// Shutdown while waiting to retry; the bot would answer next time.
		{"mid-backoff", func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, `[{"message":"must not be posted"}]`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, tn, _ := setup(t, c.answer, turn.Options{Deadline: 5 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(150*time.Millisecond, cancel)
			start := time.Now()
			o := r.Run(ctx, tn, nil)
			if !o.Cancelled || o.Failed != nil || len(o.Replies) != 0 || o.Handoff != nil || len(o.Warnings) != 0 {
				t.Fatalf("outcome = %+v, want only Cancelled", o)
			}
			if took := time.Since(start); took > 150*time.Millisecond+slack {
				t.Errorf("Run took %s after cancel", took)
			}
			if _, ok := o.Trigger(); ok {
				t.Error("a cancelled turn asks for a handoff")
			}
		})
	}
}

func TestAlreadyCancelled(t *testing.T) {
	t.Parallel()
	r, tn, wb := setup(t, reply(200, `[{"message":"hi"}]`), turn.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := r.Run(ctx, tn, nil)
	if !o.Cancelled || o.Attempts != 0 || len(wb.hits()) != 0 {
		t.Errorf("outcome = %+v, hits = %d", o, len(wb.hits()))
	}
}

func TestNoConnector(t *testing.T) {
	t.Parallel()
	r, tn, _ := setup(t, reply(200, `[]`), turn.Options{})
	tn.Bot.Type = chat.BotLex
	o := r.Run(context.Background(), tn, nil)
	if o.Failed == nil || o.Failed.Kind != bot.Misconfigured || o.Attempts != 0 {
		t.Fatalf("failed = %+v, attempts = %d", o.Failed, o.Attempts)
	}
	tn.Bot = nil
	if o := r.Run(context.Background(), tn, nil); o.Failed == nil || o.Failed.Kind != bot.Misconfigured {
		t.Fatalf("no bot: failed = %+v", o.Failed)
	}
}

// scripted stands in for a connector only where the webhook contract
// cannot produce the case: it has no give-up, no intent and no state, and
// the real connector always returns *bot.Error.
type scripted struct {
	results []bot.Result
	errs    []error
	always  error // returned once results and errs run out
	mu      sync.Mutex
	calls   int
	states  []json.RawMessage
}

func (s *scripted) Turn(_ context.Context, _ bot.Turn, state json.RawMessage) (bot.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.calls
	s.calls++
	s.states = append(s.states, state)
	var res bot.Result
	var err error
	if i < len(s.results) {
		res = s.results[i]
	}
	if i < len(s.errs) {
		err = s.errs[i]
	} else if i >= len(s.results) {
		err = s.always
	}
	return res, err
}

func runScripted(s *scripted) turn.Outcome {
	r := turn.New(turn.Options{
		Connectors: map[chat.BotType]bot.Connector{chat.BotLex: s},
		Deadline:   time.Second,
		Backoff:    fastBackoff,
		Logger:     quiet,
	})
	tn := contactSays(&chat.Bot{ID: "lex-1", AppID: "app-1", Type: chat.BotLex, Enabled: true})
	return r.Run(context.Background(), tn, json.RawMessage(`{"prev":1}`))
}

func TestGaveUp(t *testing.T) {
	t.Parallel()
	s := &scripted{results: []bot.Result{{
		Replies:  []bot.Reply{{Text: "Sorry, I did not get that."}},
		GaveUp:   true,
		Intent:   "FallbackIntent",
		State:    json.RawMessage(`{"fallbacks":3}`),
		Warnings: []string{"from the connector"},
	}}}
	o := runScripted(s)
	mustSucceed(t, o)
	if !o.GaveUp || o.Intent != "FallbackIntent" || string(o.State) != `{"fallbacks":3}` {
		t.Errorf("outcome = %+v", o)
	}
	if len(o.Replies) != 1 || !hasWarning(o, "from the connector") {
		t.Errorf("replies = %+v, warnings = %q", o.Replies, o.Warnings)
	}
	if string(s.states[0]) != `{"prev":1}` {
		t.Errorf("state passed = %s", s.states[0])
	}
	if tr, ok := o.Trigger(); !ok || tr.Kind != chat.TriggerBotGaveUp {
		t.Errorf("Trigger() = %+v, %v", tr, ok)
	}
}

func TestExplicitHandoffWinsOverGiveUp(t *testing.T) {
	t.Parallel()
	o := runScripted(&scripted{results: []bot.Result{{
		Replies: []bot.Reply{{Text: "To billing", Metadata: chat.Metadata{chat.MetaAssignTeam: "team-2"}}},
		GaveUp:  true,
	}}})
	if tr, ok := o.Trigger(); !ok || tr.Kind != chat.TriggerAssignTeam || tr.TeamID != "team-2" {
		t.Errorf("Trigger() = %+v, %v", tr, ok)
	}
}

func TestUntypedErrorIsRetriedAndNotShown(t *testing.T) {
	t.Parallel()
	secret := errors.New("dial tcp 10.0.0.7:5432: password=hunter2")
	s := &scripted{
		errs:    []error{secret, nil},
		results: []bot.Result{{}, {Replies: []bot.Reply{{Text: "ok"}}}},
	}
	if o := runScripted(s); o.Failed != nil || o.Attempts != 2 {
		t.Fatalf("failed = %+v, attempts = %d", o.Failed, o.Attempts)
	}
	o := runScripted(&scripted{always: secret})
	if o.Failed == nil || o.Failed.Kind != bot.Retryable || o.Attempts < 2 || strings.Contains(o.Failed.Message, "hunter2") {
		t.Errorf("failed = %+v", o.Failed)
	}
}
