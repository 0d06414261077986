// Package emailfallback sends the fallback emails: a contact who has not
// read an agent's reply for a while gets it by email, and an agent offline
// for a while gets a digest of the conversations waiting for them. Every
// node runs the sweep; the store's claims make each email go out once.
package emailfallback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/email"
	"github.com/switchboard-chat/switchboard/internal/periodic"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Defaults for Options left zero.
const (
	DefaultEvery        = 30 * time.Second
	DefaultUnreadAfter  = 10 * time.Minute
	DefaultOfflineAfter = 15 * time.Minute
	// DefaultLease outlasts a delivery's timeout (email.DefaultTimeout)
	// with room to record the result, so a live sender never loses its
	// claim to another node mid-send.
	DefaultLease       = 2 * time.Minute
	DefaultMaxAttempts = 5
	DefaultBackoff     = time.Minute
	DefaultMaxAge      = 24 * time.Hour
	// Batch bounds the contact emails and the digests one sweep sends;
	// the rest wait for the next sweep.
	Batch = 100
)

// Mailer delivers one email; *email.Sender is the real one.
type Mailer interface {
	Send(ctx context.Context, m email.Message) error
}

// Store is what the sweep reads and claims.
type Store interface {
	ListApps(ctx context.Context) ([]chat.App, error)
	GetApp(ctx context.Context, id string) (*chat.App, error)
	ListAgents(ctx context.Context, appID string) ([]chat.Agent, error)
	GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error)
	ConnectedAgents(ctx context.Context, appID string) ([]string, error)

	DueContactEmails(ctx context.Context, w store.UnreadWindow, limit int) ([]store.ConversationRef, error)
	ClaimContactEmail(ctx context.Context, ref store.ConversationRef, w store.UnreadWindow, lease time.Duration) (*store.ContactEmailClaim, error)
	FinishContactEmail(ctx context.Context, ref store.ConversationRef, token string, done bool, retryAt time.Time) error
	ObserveAgents(ctx context.Context, appID string, offline, online []string) error
	OfflineAgents(ctx context.Context, appID string, before time.Time) ([]string, error)
	ClaimAgentDigest(ctx context.Context, appID, agentID string, before time.Time, lease time.Duration) (*store.AgentDigestClaim, error)
	FinishAgentDigest(ctx context.Context, c *store.AgentDigestClaim, done bool, retryAt time.Time) error
}

// Options configure a Sweeper. Store and Mailer are required.
type Options struct {
	Store  Store
	Mailer Mailer
	Logger *slog.Logger
	// Now must agree with the store's clock.
	Now func() time.Time
	// UnreadAfter is how long an agent's message stays unread before it
	// is emailed to the contact.
	UnreadAfter time.Duration
	// MaxAge is how long after that an unread message may still be
	// emailed; older ones are not (email turned on late, a long outage).
	MaxAge time.Duration
	// OfflineAfter is how long an agent is offline before the digest.
	OfflineAfter time.Duration
	// Lease is how long a claim holds off other nodes.
	Lease time.Duration
	// MaxAttempts is how many times an email is tried before it is given
	// up; Backoff is the wait after the first failure, doubled after each.
	MaxAttempts int
	Backoff     time.Duration
	// DashboardURL, when set, is where agents' digests link to (the
	// dashboard's root, ending in "/").
	DashboardURL string
}

// Sweeper sends the fallback emails. It is safe for concurrent use.
type Sweeper struct{ o Options }

// New fills in Options' defaults.
func New(o Options) *Sweeper {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UnreadAfter <= 0 {
		o.UnreadAfter = DefaultUnreadAfter
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = DefaultOfflineAfter
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	return &Sweeper{o: o}
}

// Result counts what one sweep did.
type Result struct {
	ContactEmails, Digests, Failed int
}

// Sweep runs one pass: unread replies to contacts, then digests to
// offline agents.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	var res Result
	err1 := s.sweepContacts(ctx, &res)
	err2 := s.sweepAgents(ctx, &res)
	return res, errors.Join(err1, err2)
}

// Run sweeps every interval (DefaultEvery when 0) until ctx ends. The
// caller owns the goroutine: it cancels ctx and waits for the return.
func (s *Sweeper) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultEvery
	}
	// Bounded like the claims, so a wedged relay or database cannot pile
	// sweeps up.
	periodic.Every(ctx, every, s.o.Lease, func(sctx context.Context) {
		res, err := s.Sweep(sctx)
		if err != nil && ctx.Err() == nil {
			s.o.Logger.WarnContext(ctx, "email fallback sweep failed", "err", err)
		}
		if res != (Result{}) {
			s.o.Logger.InfoContext(ctx, "email fallback sweep", "contactEmails", res.ContactEmails, "digests", res.Digests, "failed", res.Failed)
		}
	})
}

func (s *Sweeper) sweepContacts(ctx context.Context, res *Result) error {
	before := s.o.Now().Add(-s.o.UnreadAfter)
	window := store.UnreadWindow{From: before.Add(-s.o.MaxAge), Before: before}
	due, err := s.o.Store.DueContactEmails(ctx, window, Batch)
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		claim, err := s.o.Store.ClaimContactEmail(ctx, ref, window, s.o.Lease)
		if err != nil {
			errs = append(errs, fmt.Errorf("conversation %s: %w", ref.ConversationID, err))
			continue
		}
		if claim == nil {
			continue // read, answered or closed meanwhile, or another node has it
		}
		msg, err := s.contactEmail(ctx, claim)
		if err == nil {
			err = s.o.Mailer.Send(ctx, msg)
		}
		done, retryAt := s.outcome(ctx, err, claim.Attempt, "conversation", ref.ConversationID)
		if err == nil {
			res.ContactEmails++
		} else {
			res.Failed++
		}
		if ferr := s.record(ctx, func(ctx context.Context) error {
			return s.o.Store.FinishContactEmail(ctx, ref, claim.Token, done, retryAt)
		}); ferr != nil {
			errs = append(errs, fmt.Errorf("conversation %s: %w", ref.ConversationID, ferr))
		}
	}
	return errors.Join(errs...)
}

// outcome decides what a send's result means for its claim: done when it
// was sent, or when it failed for good (a bad address, or the last
// attempt); otherwise when to try again.
func (s *Sweeper) outcome(ctx context.Context, err error, attempt int, kind, id string) (done bool, retryAt time.Time) {
	if err == nil {
		return true, time.Time{}
	}
	if errors.Is(err, email.ErrBadAddress) || attempt >= s.o.MaxAttempts {
		s.o.Logger.WarnContext(ctx, "fallback email given up", kind, id, "attempts", attempt, "err", err)
		return true, time.Time{}
	}
	wait := s.o.Backoff << min(attempt-1, 10)
	s.o.Logger.InfoContext(ctx, "fallback email failed; will retry", kind, id, "attempt", attempt, "retryIn", wait, "err", err)
	return false, s.o.Now().Add(wait)
}

func (s *Sweeper) sweepAgents(ctx context.Context, res *Result) error {
	apps, err := s.o.Store.ListApps(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, app := range apps {
		if res.Digests+res.Failed >= Batch {
			break
		}
		if err := s.sweepApp(ctx, app, res); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("app %s: %w", app.ID, err))
		}
	}
	return errors.Join(errs...)
}

// sweepApp records who is offline in the app, then sends the digests due.
// An agent is offline when they set their presence so, or when no node
// holds a live connection of theirs.
func (s *Sweeper) sweepApp(ctx context.Context, app chat.App, res *Result) error {
	agents, err := s.o.Store.ListAgents(ctx, app.ID)
	if err != nil {
		return err
	}
	connected, err := s.o.Store.ConnectedAgents(ctx, app.ID)
	if err != nil {
		return err
	}
	var offline, online []string
	byID := map[string]*chat.Agent{}
	for i := range agents {
		a := &agents[i]
		byID[a.ID] = a
		if a.Presence != chat.PresenceOffline && contains(connected, a.ID) {
			online = append(online, a.ID)
		} else {
			offline = append(offline, a.ID)
		}
	}
	if err := s.o.Store.ObserveAgents(ctx, app.ID, offline, online); err != nil {
		return err
	}
	before := s.o.Now().Add(-s.o.OfflineAfter)
	due, err := s.o.Store.OfflineAgents(ctx, app.ID, before)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		agent := byID[id]
		if agent == nil || agent.Email == "" || res.Digests+res.Failed >= Batch {
			continue
		}
		claim, err := s.o.Store.ClaimAgentDigest(ctx, app.ID, id, before, s.o.Lease)
		if err != nil {
			errs = append(errs, fmt.Errorf("agent %s: %w", id, err))
			continue
		}
		if claim == nil {
			continue
		}
		err = s.o.Mailer.Send(ctx, s.digestEmail(app, agent, claim))
		done, retryAt := s.outcome(ctx, err, claim.Attempt, "agent", id)
		if err == nil {
			res.Digests++
		} else {
			res.Failed++
		}
		if ferr := s.record(ctx, func(ctx context.Context) error {
			return s.o.Store.FinishAgentDigest(ctx, claim, done, retryAt)
		}); ferr != nil {
			errs = append(errs, fmt.Errorf("agent %s: %w", id, ferr))
		}
	}
	return errors.Join(errs...)
}

// record writes a send's outcome even when the sweep's context has just
// ended: an email the relay took must be recorded as sent, or another
// node would send it again once the claim expires.
func (s *Sweeper) record(ctx context.Context, finish func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return finish(ctx)
}

func contains(sorted []string, id string) bool {
	i := sort.SearchStrings(sorted, id)
	return i < len(sorted) && sorted[i] == id
}
