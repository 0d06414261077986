// Package botrun owns the goroutines that run bot turns on a node. It claims
// turns from the durable queue, keeps their leases alive while they run, and
// hands each to service.RunBotTurn, which holds the rules (what the bot is
// told, what its answer does). Turns are leased, not owned: a node that dies
// mid-turn simply stops renewing, and a live node (or this one, restarted)
// claims the turn once the lease expires.
package botrun

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Defaults for Options' zero values.
const (
	DefaultLease       = 30 * time.Second
	DefaultPoll        = time.Second
	DefaultConcurrency = 16
)

// Options configure a Worker. Service, Runner and NodeID are required.
type Options struct {
	Service *service.Service
	Runner  *turn.Runner
	// NodeID is recorded on each lease, so an admin can tell which node
	// holds a turn.
	NodeID string
	// Lease is how long a claim lasts without renewal; it is renewed every
	// third of it while the turn runs. A dead node's turns wait this long
	// before another node takes them, so it trades recovery time against
	// renewal traffic.
	Lease time.Duration
	// Poll is how often the queue is checked without a wake-up: the bus
	// only shortens the wait, and the poll is what finds turns whose
	// lease expired on a dead node.
	Poll time.Duration
	// Concurrency bounds the turns running at once on this node.
	Concurrency int
	Logger      *slog.Logger
}

// Worker runs bot turns until closed.
type Worker struct {
	o      Options
	log    *slog.Logger
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns a Worker; Start sets it going.
func New(o Options) *Worker {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	w := &Worker{o: o, log: o.Logger, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w
}

// Start runs the claim loop until ctx ends or Close is called.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	// Another node may have queued the turn (the contact's message landed
	// there); its message event reaches every node, and claiming is cheap
	// and coalesced, so any message is reason enough to look.
	unsub := w.o.Service.Bus().Subscribe(func(e bus.Event) {
		if e.Type == bus.TypeMessage {
			w.poke()
		}
	})
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer unsub()
		w.loop(ctx)
	}()
}

// Close stops claiming and waits for the turns in flight. Their context is
// cancelled: a turn whose bot has not answered yet is released back to the
// queue for another node, and one that has answered is applied first.
func (w *Worker) Close() {
	w.once.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
	})
	w.wg.Wait()
}

func (w *Worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) loop(ctx context.Context) {
	slots := make(chan struct{}, w.o.Concurrency)
	tick := time.NewTicker(w.o.Poll)
	defer tick.Stop()
	for {
		if free := cap(slots) - len(slots); free > 0 {
			turns, err := w.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "claiming bot turns failed", "err", err)
			}
			for _, t := range turns {
				slots <- struct{}{}
				w.wg.Add(1)
				go func(t chat.BotTurn) {
					defer w.wg.Done()
					defer func() { <-slots; w.poke() }()
					w.run(ctx, t)
				}(t)
			}
			if len(turns) == free {
				continue // more may be waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.wake:
		case <-w.o.Service.BotWake():
		}
	}
}

func (w *Worker) claim(ctx context.Context, limit int) ([]chat.BotTurn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return w.o.Service.Store().ClaimBotTurns(cctx, w.o.NodeID, w.o.Lease, limit)
}

// run keeps t's lease alive while the service runs it. Losing the lease
// cancels the turn: someone else owns it now, and the service posts
// nothing for a turn it no longer holds.
func (w *Worker) run(ctx context.Context, t chat.BotTurn) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var lost bool
	var renew sync.WaitGroup
	renew.Add(1)
	go func() {
		defer renew.Done()
		tick := time.NewTicker(w.o.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				rctx, rcancel := context.WithTimeout(tctx, w.o.Lease/3)
				err := w.o.Service.Store().ExtendBotTurnLease(rctx, t.ID, t.LeaseToken, w.o.Lease)
				rcancel()
				if chat.IsCode(err, chat.CodeConflict) {
					lost = true
					cancel()
					return
				}
				if err != nil && tctx.Err() == nil {
					w.log.WarnContext(ctx, "renewing a bot turn's lease failed", "turn", t.ID, "err", err)
				}
			}
		}
	}()
	err := w.o.Service.RunBotTurn(tctx, service.BotRun{Turn: t, Runner: w.o.Runner, Lease: w.o.Lease})
	close(done)
	renew.Wait()
	switch {
	case lost:
		w.log.DebugContext(ctx, "bot turn lease lost while running", "turn", t.ID)
	case err != nil:
		// Left to its lease: the next claim after expiry runs it again.
		w.log.ErrorContext(ctx, "bot turn failed; it will be retried after its lease", "turn", t.ID, "conversation", t.ConversationID, "err", err)
	}
}
