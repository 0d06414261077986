// Package turn runs one bot turn: it calls the bot's connector under the
// turn's deadline, retries what may heal, normalises the replies and reads
// the control signals they carry. It stands between the durable queue
// (which decides when a turn runs, and requeues it on shutdown) and the
// services that post messages and hand conversations off (which act on the
// Outcome). It stores nothing and posts nothing, so one Runner serves every
// node, conversation and bot, and it can be tested against a real bot with
// nothing else running.
package turn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

// DefaultDeadline is a turn's budget from the contact's message to the
// bot's answer (SPEC §3): past it, the contact has waited long enough and
// a person should step in.
const DefaultDeadline = 10 * time.Second

// Options configure a Runner. The zero value, plus Connectors, is ready
// for production.
type Options struct {
	// Connectors serve each bot type; a turn for a type with none fails
	// as Misconfigured, the same as a bot with broken settings.
	Connectors map[chat.BotType]bot.Connector
	// Deadline bounds a whole turn, retries included; 0 means
	// DefaultDeadline.
	Deadline time.Duration
	// Backoff spaces the retries of Retryable failures.
	Backoff Backoff
	// Logger receives one line per failed or retried turn; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Runner runs bot turns. It is safe for concurrent use.
type Runner struct {
	conns    map[chat.BotType]bot.Connector
	deadline time.Duration
	backoff  Backoff
	log      *slog.Logger
}

// New returns a Runner. The connectors map is copied, so the caller may
// reuse its own.
func New(o Options) *Runner {
	r := &Runner{
		conns:    make(map[chat.BotType]bot.Connector, len(o.Connectors)),
		deadline: o.Deadline,
		backoff:  o.Backoff.withDefaults(),
		log:      o.Logger,
	}
	for k, c := range o.Connectors {
		if c != nil {
			r.conns[k] = c
		}
	}
	if r.deadline <= 0 {
		r.deadline = DefaultDeadline
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r
}

// Outcome is everything the caller must do after a turn. Exactly one of
// these holds: Cancelled; Failed != nil; or the turn succeeded, and then
// Replies are posted in order, then Handoff (or, failing that, GaveUp) is
// given to chat.DecideHandoff, then Actions are carried out. Trigger says
// which handoff trigger, if any, applies.
//
// A failed turn must never leave the contact in silence: the caller hands
// the conversation off when the bot's auto-handoff is on, and otherwise
// posts the polite fallback that chat.DecideHandoff returns for a
// TriggerBotFailed with auto-handoff off. The runner itself posts nothing.
type Outcome struct {
	// Replies are normalised by richmsg and ready to store as the bot's
	// messages, in the bot's order. A reply with neither text nor a rich
	// template is left out (a message needs one or the other), but its
	// signals are still read.
	Replies []bot.Reply
	// Handoff is the first handoff trigger the bot's replies carried
	// (KM_ASSIGN_TO, KM_ASSIGN_TEAM). The reply that carried it is the
	// last of Replies, as the bot's goodbye; later ones were dropped.
	Handoff *chat.Trigger
	// Actions are the replies' actionRequest values (richmsg.Action*
	// constants), in order, each once.
	Actions []string
	// GaveUp reports the connector's give-up. Whether it hands off
	// depends on the bot's auto-handoff setting, which is the caller's.
	GaveUp bool
	// Intent is the bot's understanding of the turn, for analytics.
	Intent string
	// State is what to pass to the conversation's next turn; nil keeps
	// the previous state (and is always nil for a failed turn).
	State json.RawMessage
	// Warnings are for the bot's owner, never for the contact.
	Warnings []string

	// Failed is set when the bot gave no answer.
	Failed *Failure
	// Cancelled means ctx was cancelled (shutdown) before the turn
	// finished: nothing may be posted, and the turn must be requeued.
	Cancelled bool

	// Attempts counts calls to the connector.
	Attempts int
	Timing   Timing
}

// Failure is why a turn got no answer.
type Failure struct {
	// Kind is the last attempt's kind.
	Kind bot.Kind
	// Message is safe to show the bot's admins: it never holds a secret.
	Message string
	// DeadlineExpired means the last attempt was cut short by the turn's
	// deadline (a timeout), as opposed to failing on its own.
	DeadlineExpired bool
}

// Timing splits a turn's wall time, so that what the platform adds to a
// bot's own time can be measured: Total - Connector - Backoff.
type Timing struct {
	// Total is the whole of Run.
	Total time.Duration
	// Connector is the time spent inside Connector.Turn, over all attempts.
	Connector time.Duration
	// Backoff is the time spent waiting between attempts.
	Backoff time.Duration
}

// Trigger is the handoff trigger to give chat.DecideHandoff for this
// outcome, if any. A bot's explicit KM_ASSIGN_TO or KM_ASSIGN_TEAM wins
// over its give-up, because it names where the conversation should go; a
// failure asks for TriggerBotFailed. A cancelled turn asks for nothing: it
// will run again.
func (o Outcome) Trigger() (chat.Trigger, bool) {
	switch {
	case o.Cancelled:
		return chat.Trigger{}, false
	case o.Failed != nil:
		return chat.Trigger{Kind: chat.TriggerBotFailed}, true
	case o.Handoff != nil:
		return *o.Handoff, true
	case o.GaveUp:
		return chat.Trigger{Kind: chat.TriggerBotGaveUp}, true
	}
	return chat.Trigger{}, false
}

// Run runs t against its bot's connector, passing state from the
// conversation's previous turn. It never returns an error: the Outcome
// says what happened. The turn's deadline is the sooner of the Runner's
// Deadline and ctx's; cancelling ctx (shutdown) yields a Cancelled outcome
// with no replies. Run returns soon after the deadline as long as the
// connector honours its context, as bot.Connector requires.
func (r *Runner) Run(ctx context.Context, t bot.Turn, state json.RawMessage) Outcome {
	start := time.Now()
	o := r.run(ctx, t, state, start)
	o.Timing.Total = time.Since(start)
	if o.Cancelled {
		// The turn runs again elsewhere; half of its result would be
		// misleading.
		o = Outcome{Cancelled: true, Attempts: o.Attempts, Timing: o.Timing}
	}
	return o
}

func (r *Runner) run(ctx context.Context, t bot.Turn, state json.RawMessage, start time.Time) Outcome {
	var o Outcome
	if cancelled(ctx) {
		o.Cancelled = true
		return o
	}
	if t.Bot == nil {
		o.Failed = &Failure{Kind: bot.Misconfigured, Message: "the turn names no bot"}
		return o
	}
	conn := r.conns[t.Bot.Type]
	if conn == nil {
		o.Failed = &Failure{Kind: bot.Misconfigured, Message: fmt.Sprintf("no connector serves bots of type %q", t.Bot.Type)}
		r.logFailure(t, o)
		return o
	}

	deadline := start.Add(r.deadline)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	tctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// The last attempt needs some time to be worth making: starting one
	// a few milliseconds before the deadline only burns a request and
	// reports a timeout instead of the bot's real failure.
	minAttempt := min(r.deadline, time.Until(deadline)) / 20

	for {
		o.Attempts++
		callStart := time.Now()
		res, err := conn.Turn(tctx, t, state)
		o.Timing.Connector += time.Since(callStart)
		if cancelled(ctx) {
			o.Cancelled = true
			return o
		}
		if err == nil {
			// An answer that made it back is used even if the deadline
			// passed while it was being read: throwing it away would
			// trade the bot's reply for a handoff over milliseconds.
			r.accept(&o, res)
			return o
		}

		f := failureOf(err)
		if f.Kind != bot.Retryable {
			o.Failed = f
			r.logFailure(t, o, "error", err)
			return o
		}
		if tctx.Err() != nil {
			f.DeadlineExpired = true
			o.Failed = f
			r.logFailure(t, o, "error", err)
			return o
		}
		wait := r.backoff.delay(o.Attempts)
		var be *bot.Error
		if errors.As(err, &be) && be.RetryAfter > wait {
			// The bot said when it can take more; earlier would only
			// be refused again.
			wait = be.RetryAfter
		}
		if time.Until(deadline)-wait < minAttempt {
			o.Failed = f
			r.logFailure(t, o, "error", err, "retryAfter", wait)
			return o
		}
		r.log.Debug("bot turn will be retried", "bot", t.Bot.ID, "conversation", t.ConversationID,
			"attempt", o.Attempts, "wait", wait, "error", err)

		waitStart := time.Now()
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-tctx.Done():
			timer.Stop()
		}
		o.Timing.Backoff += time.Since(waitStart)
		if cancelled(ctx) {
			o.Cancelled = true
			return o
		}
		if tctx.Err() != nil {
			// The wait was sized to end before the deadline; this is
			// only a timer firing late on a loaded machine.
			f.DeadlineExpired = true
			o.Failed = f
			r.logFailure(t, o, "error", err)
			return o
		}
	}
}

// accept turns a connector's answer into the outcome's replies and signals.
func (r *Runner) accept(o *Outcome, res bot.Result) {
	o.GaveUp = res.GaveUp
	o.Intent = res.Intent
	o.State = res.State
	o.Warnings = append(o.Warnings, res.Warnings...)
	seen := map[string]bool{}
	for i, raw := range res.Replies {
		n := i + 1
		rep, warns := richmsg.Normalize(raw.Text, raw.Metadata)
		for _, w := range warns {
			o.Warnings = append(o.Warnings, fmt.Sprintf("message %d: %s", n, w))
		}
		if a := rep.Metadata[richmsg.MetaActionRequest]; a != "" && !seen[a] {
			seen[a] = true
			o.Actions = append(o.Actions, a)
		}
		trig, handoff := chat.HandoffTrigger(rep.Metadata)
		if showable(rep) {
			o.Replies = append(o.Replies, rep)
		} else if !handoff && rep.Metadata[richmsg.MetaActionRequest] == "" {
			o.Warnings = append(o.Warnings, fmt.Sprintf("message %d has no text and no rich message, and was not posted", n))
		}
		if handoff {
			o.Handoff = &trig
			// The conversation is leaving the bot: whatever it meant to
			// say next would arrive after the handoff notice, in a chat
			// the bot no longer has.
			if rest := len(res.Replies) - n; rest > 0 {
				o.Warnings = append(o.Warnings, fmt.Sprintf("message %d hands the conversation off; the %d message(s) after it were not posted", n, rest))
			}
			return
		}
	}
}

// showable mirrors chat.NewMessage's rule that a message needs text or a
// rich template: a bot reply carries neither attachments nor a location.
func showable(r bot.Reply) bool {
	return strings.TrimSpace(r.Text) != "" || r.Metadata[chat.MetaTemplateID] != ""
}

// failureOf keeps a connector's admin-safe message. An error that is not a
// *bot.Error is a connector bug whose text may say anything, so admins get
// a plain statement and the log gets the detail.
func failureOf(err error) *Failure {
	var be *bot.Error
	if errors.As(err, &be) {
		msg := be.Message
		if msg == "" {
			msg = "the bot failed (" + be.Kind.String() + ")"
		}
		return &Failure{Kind: be.Kind, Message: msg}
	}
	return &Failure{Kind: bot.KindOf(err), Message: "the bot's connector failed unexpectedly"}
}

// cancelled tells shutdown apart from a deadline: only a cancelled ctx
// means "requeue"; an expired caller deadline is part of the turn's budget.
func cancelled(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

func (r *Runner) logFailure(t bot.Turn, o Outcome, kv ...any) {
	args := []any{"conversation", t.ConversationID, "kind", o.Failed.Kind.String(),
		"attempts", o.Attempts, "deadlineExpired", o.Failed.DeadlineExpired, "message", o.Failed.Message}
	if t.Bot != nil {
		args = append(args, "bot", t.Bot.ID, "app", t.Bot.AppID)
	}
	r.log.Warn("bot turn failed", append(args, kv...)...)
}
