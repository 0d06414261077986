package storetest

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const lease = time.Minute

// says appends n contact messages to conv.
func (w *world) says(t testing.TB, s store.Store, conv string, n int) {
	t.Helper()
	for i := range n {
		_, _, err := s.AppendMessage(context.Background(), w.app.ID, conv, w.contactSays(fmt.Sprint("m", i)))
		must(t, err)
	}
}

func (w *world) msgTurn(conv string, seq int64) *chat.BotTurn {
	return &chat.BotTurn{AppID: w.app.ID, ConversationID: conv, BotID: w.bot.ID, Kind: chat.BotTurnMessage, MessageSeq: seq}
}

func (w *world) eventTurn(conv, event string) *chat.BotTurn {
	return &chat.BotTurn{AppID: w.app.ID, ConversationID: conv, BotID: w.bot.ID, Kind: chat.BotTurnEvent, Event: event}
}

func enqueue(t testing.TB, s store.Store, bt *chat.BotTurn) *chat.BotTurn {
	t.Helper()
	created, err := s.EnqueueBotTurn(context.Background(), bt)
	must(t, err)
	if !created {
		t.Fatalf("turn %+v not created", bt)
	}
	return bt
}

func claim(t testing.TB, s store.Store, node string, limit int) []chat.BotTurn {
	t.Helper()
	got, err := s.ClaimBotTurns(context.Background(), node, lease, limit)
	must(t, err)
	return got
}

func claimOne(t testing.TB, s store.Store, node string, want *chat.BotTurn) chat.BotTurn {
	t.Helper()
	got := claim(t, s, node, 10)
	if len(got) != 1 || got[0].ID != want.ID {
		t.Fatalf("claimed %s, want only %s", turnIDs(got), want.ID)
	}
	return got[0]
}

func claimNone(t testing.TB, s store.Store, node string) {
	t.Helper()
	if got := claim(t, s, node, 10); len(got) != 0 {
		t.Fatalf("claimed %s, want nothing", turnIDs(got))
	}
}

func turnIDs(ts []chat.BotTurn) string {
	out := "["
	for i, t := range ts {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s(%s/%d%s)", t.ID, t.Kind, t.MessageSeq, t.Event)
	}
	return out + "]"
}

func openTurns(t testing.TB, s store.Store, w *world, conv string) []chat.BotTurn {
	t.Helper()
	got, err := s.PendingBotTurns(context.Background(), w.app.ID, conv)
	must(t, err)
	return got
}

func testBotTurnEnqueue(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.says(t, s, w.conv.ID, 2)
	first := enqueue(t, s, w.msgTurn(w.conv.ID, 1))
	if first.ID == "" || first.State != chat.BotTurnPending || first.Attempts != 0 || first.CreatedAt.IsZero() {
		t.Fatalf("enqueued %+v", first)
	}
	// The same message again is the same turn, even with another id.
	again := w.msgTurn(w.conv.ID, 1)
	again.ID = chat.NewID()
	created, err := s.EnqueueBotTurn(ctx, again)
	must(t, err)
	if created || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || again.State != chat.BotTurnPending {
		t.Fatalf("re-enqueue: created=%v %+v, want %+v", created, again, first)
	}
	// An attachment's media event answers its message too: one turn per message.
	media := w.eventTurn(w.conv.ID, "KOMMUNICATE_MEDIA_EVENT")
	media.MessageSeq = 1
	created, err = s.EnqueueBotTurn(ctx, media)
	must(t, err)
	if created || media.ID != first.ID {
		t.Fatalf("media event for a message with a turn: created=%v id %s", created, media.ID)
	}
	// Events not tied to a message are not deduplicated.
	enqueue(t, s, w.eventTurn(w.conv.ID, "WELCOME"))
	enqueue(t, s, w.eventTurn(w.conv.ID, "WELCOME"))
	if got := openTurns(t, s, w, w.conv.ID); len(got) != 3 {
		t.Fatalf("open turns %s, want 3", turnIDs(got))
	}
	dupID := w.eventTurn(w.conv.ID, "WELCOME")
	dupID.ID = first.ID
	_, err = s.EnqueueBotTurn(ctx, dupID)
	wantCode(t, err, chat.CodeConflict)

	other := newWorld(t, s)
	bad := []struct {
		name string
		bt   *chat.BotTurn
		code chat.Code
	}{
		{"message not stored yet", w.msgTurn(w.conv.ID, 3), chat.CodeInvalid},
		{"message turn without seq", w.msgTurn(w.conv.ID, 0), chat.CodeInvalid},
		{"event without name", w.eventTurn(w.conv.ID, ""), chat.CodeInvalid},
		{"unknown kind", &chat.BotTurn{AppID: w.app.ID, ConversationID: w.conv.ID, BotID: w.bot.ID, Kind: "poke"}, chat.CodeInvalid},
		{"another app's bot", &chat.BotTurn{AppID: w.app.ID, ConversationID: w.conv.ID, BotID: other.bot.ID, Kind: chat.BotTurnEvent, Event: "WELCOME"}, chat.CodeInvalid},
		{"another app's conversation", &chat.BotTurn{AppID: w.app.ID, ConversationID: other.conv.ID, BotID: w.bot.ID, Kind: chat.BotTurnEvent, Event: "WELCOME"}, chat.CodeNotFound},
		{"unknown conversation", w.eventTurn("missing", "WELCOME"), chat.CodeNotFound},
	}
	for _, tc := range bad {
		_, err := s.EnqueueBotTurn(ctx, tc.bt)
		if !chat.IsCode(err, tc.code) {
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.code)
		}
	}
	if got := openTurns(t, s, w, w.conv.ID); len(got) != 3 {
		t.Fatalf("rejected enqueues wrote: %s", turnIDs(got))
	}
	if got := openTurns(t, s, other, other.conv.ID); len(got) != 0 {
		t.Fatalf("rejected enqueues wrote in the other app: %s", turnIDs(got))
	}
}

func testBotTurnOrder(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	welcome := enqueue(t, s, w.eventTurn(w.conv.ID, "WELCOME")) // before any message
	w.says(t, s, w.conv.ID, 3)
	// Enqueued out of order, they still run in message order, and an event
	// enqueued after message 3 runs after it.
	m2 := enqueue(t, s, w.msgTurn(w.conv.ID, 2))
	handoff := enqueue(t, s, w.eventTurn(w.conv.ID, "HANDOFF_EVENT"))
	m3 := enqueue(t, s, w.msgTurn(w.conv.ID, 3))
	m1 := enqueue(t, s, w.msgTurn(w.conv.ID, 1))
	want := []*chat.BotTurn{welcome, m1, m2, m3, handoff}
	got := openTurns(t, s, w, w.conv.ID)
	for i := range want {
		if len(got) != len(want) || got[i].ID != want[i].ID {
			t.Fatalf("queue %s, want welcome, 1, 2, 3, handoff", turnIDs(got))
		}
	}

	// A second conversation runs beside the first: one turn in flight each.
	c2 := w.newConv(t, s)
	w.says(t, s, c2.ID, 2)
	o1 := enqueue(t, s, w.msgTurn(c2.ID, 1))
	o2 := enqueue(t, s, w.msgTurn(c2.ID, 2))
	heads := claim(t, s, "node-a", 10)
	if len(heads) != 2 || heads[0].ID != welcome.ID || heads[1].ID != o1.ID {
		t.Fatalf("first claim %s, want the welcome and %s", turnIDs(heads), o1.ID)
	}
	for _, h := range heads {
		if h.State != chat.BotTurnRunning || h.Attempts != 1 || h.LeaseOwner != "node-a" || h.LeaseToken == "" || h.LeaseExpiresAt.IsZero() {
			t.Fatalf("claimed turn %+v", h)
		}
	}
	claimNone(t, s, "node-b")

	must(t, s.FinishBotTurn(ctx, heads[1].ID, heads[1].LeaseToken, chat.BotTurnDone, "answered"))
	claimOne(t, s, "node-b", o2)
	for _, next := range want[1:] {
		claimNone(t, s, "node-b") // the previous turn is still running
		must(t, s.FinishBotTurn(ctx, heads[0].ID, heads[0].LeaseToken, chat.BotTurnDone, ""))
		heads[0] = claimOne(t, s, "node-b", next)
	}
	must(t, s.FinishBotTurn(ctx, heads[0].ID, heads[0].LeaseToken, chat.BotTurnHandedOff, "asked for a human"))
	claimNone(t, s, "node-a")
	if got := openTurns(t, s, w, w.conv.ID); len(got) != 0 {
		t.Fatalf("open turns after all finished: %s", turnIDs(got))
	}

	for _, tc := range []struct {
		node  string
		lease time.Duration
		limit int
	}{{"", lease, 1}, {"node-a", 0, 1}, {"node-a", lease, 0}} {
		_, err := s.ClaimBotTurns(ctx, tc.node, tc.lease, tc.limit)
		wantCode(t, err, chat.CodeInvalid)
	}
}

func testBotTurnLease(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.says(t, s, w.conv.ID, 2)
	bt := enqueue(t, s, w.msgTurn(w.conv.ID, 1))
	next := enqueue(t, s, w.msgTurn(w.conv.ID, 2))
	a := claimOne(t, s, "node-a", bt)

	// A lease kept alive is not taken over.
	c.Advance(lease - time.Second)
	must(t, s.ExtendBotTurnLease(ctx, a.ID, a.LeaseToken, lease))
	c.Advance(lease - time.Second)
	claimNone(t, s, "node-b")

	// node-a dies: once its lease runs out, node-b takes the turn over,
	// and not the next one, which still waits its turn.
	c.Advance(2 * time.Second)
	b := claimOne(t, s, "node-b", bt)
	if b.Attempts != 2 || b.LeaseToken == a.LeaseToken || b.LeaseOwner != "node-b" || !b.LeaseExpiresAt.After(a.LeaseExpiresAt) {
		t.Fatalf("taken over as %+v, after %+v", b, a)
	}
	claimNone(t, s, "node-a")

	// node-a's late calls are refused and change nothing.
	wantCode(t, s.FinishBotTurn(ctx, a.ID, a.LeaseToken, chat.BotTurnDone, "late"), chat.CodeConflict)
	wantCode(t, s.ExtendBotTurnLease(ctx, a.ID, a.LeaseToken, lease), chat.CodeConflict)
	wantCode(t, s.ReleaseBotTurn(ctx, a.ID, a.LeaseToken), chat.CodeConflict)
	wantCode(t, s.FinishBotTurn(ctx, a.ID, "", chat.BotTurnDone, ""), chat.CodeConflict)
	got := openTurns(t, s, w, w.conv.ID)
	if len(got) != 2 || got[0].State != chat.BotTurnRunning || got[0].LeaseOwner != "node-b" || got[0].Attempts != 2 ||
		!got[0].LeaseExpiresAt.Equal(b.LeaseExpiresAt) || got[0].Note != "" || !got[0].FinishedAt.IsZero() {
		t.Fatalf("after refused calls: %+v", got)
	}

	wantCode(t, s.FinishBotTurn(ctx, b.ID, b.LeaseToken, chat.BotTurnRunning, ""), chat.CodeInvalid)
	wantCode(t, s.FinishBotTurn(ctx, "missing", b.LeaseToken, chat.BotTurnDone, ""), chat.CodeNotFound)
	wantCode(t, s.ExtendBotTurnLease(ctx, b.ID, b.LeaseToken, 0), chat.CodeInvalid)

	must(t, s.FinishBotTurn(ctx, b.ID, b.LeaseToken, chat.BotTurnDone, "answered"))
	// A retried finish (its answer was lost) succeeds; a different outcome,
	// an extension or a release after the finish do not.
	must(t, s.FinishBotTurn(ctx, b.ID, b.LeaseToken, chat.BotTurnDone, "answered"))
	wantCode(t, s.FinishBotTurn(ctx, b.ID, b.LeaseToken, chat.BotTurnFailed, ""), chat.CodeConflict)
	wantCode(t, s.ExtendBotTurnLease(ctx, b.ID, b.LeaseToken, lease), chat.CodeConflict)
	wantCode(t, s.ReleaseBotTurn(ctx, b.ID, b.LeaseToken), chat.CodeConflict)
	claimOne(t, s, "node-a", next)
}

func testBotTurnRelease(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.says(t, s, w.conv.ID, 1)
	bt := enqueue(t, s, w.msgTurn(w.conv.ID, 1))
	a := claimOne(t, s, "node-a", bt)
	must(t, s.ReleaseBotTurn(ctx, a.ID, a.LeaseToken))
	got := openTurns(t, s, w, w.conv.ID)
	if len(got) != 1 || got[0].State != chat.BotTurnPending || got[0].Attempts != 0 || got[0].LeaseOwner != "" || got[0].LeaseToken != "" {
		t.Fatalf("after release: %+v", got)
	}
	wantCode(t, s.FinishBotTurn(ctx, a.ID, a.LeaseToken, chat.BotTurnDone, ""), chat.CodeConflict)
	// Requeued at once, with no lease to wait out.
	b := claimOne(t, s, "node-b", bt)
	if b.Attempts != 1 || b.LeaseToken == a.LeaseToken {
		t.Fatalf("claimed after release: %+v", b)
	}
}

func testBotTurnCancel(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.says(t, s, w.conv.ID, 3)
	for seq := int64(1); seq <= 3; seq++ {
		enqueue(t, s, w.msgTurn(w.conv.ID, seq))
	}
	c2 := w.newConv(t, s)
	w.says(t, s, c2.ID, 1)
	kept := enqueue(t, s, w.msgTurn(c2.ID, 1))

	running := claim(t, s, "node-a", 10)
	if len(running) != 2 {
		t.Fatalf("claimed %s, want both heads", turnIDs(running))
	}
	n, err := s.CancelBotTurns(ctx, w.app.ID, w.conv.ID, "taken over by Ann")
	must(t, err)
	if n != 3 {
		t.Fatalf("cancelled %d, want 3 (one running, two pending)", n)
	}
	if got := openTurns(t, s, w, w.conv.ID); len(got) != 0 {
		t.Fatalf("open after cancel: %s", turnIDs(got))
	}
	for _, r := range running {
		if r.ConversationID == w.conv.ID {
			// The bot's late answer must not count.
			wantCode(t, s.FinishBotTurn(ctx, r.ID, r.LeaseToken, chat.BotTurnDone, ""), chat.CodeConflict)
			wantCode(t, s.ExtendBotTurnLease(ctx, r.ID, r.LeaseToken, lease), chat.CodeConflict)
		} else {
			must(t, s.FinishBotTurn(ctx, r.ID, r.LeaseToken, chat.BotTurnDone, ""))
		}
	}
	claimNone(t, s, "node-b")
	if n, err := s.CancelBotTurns(ctx, w.app.ID, w.conv.ID, "again"); err != nil || n != 0 {
		t.Fatalf("second cancel = %d, %v", n, err)
	}
	if got := openTurns(t, s, w, c2.ID); len(got) != 0 || kept.ID == "" {
		t.Fatalf("other conversation: %s", turnIDs(got))
	}

	// New turns after a hand-back run again.
	w.says(t, s, w.conv.ID, 1)
	fresh := enqueue(t, s, w.msgTurn(w.conv.ID, 4))
	claimOne(t, s, "node-b", fresh)
}

func testBotTurnTenantIsolation(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	w.says(t, s, w.conv.ID, 1)
	enqueue(t, s, w.msgTurn(w.conv.ID, 1))

	_, err := s.PendingBotTurns(ctx, other.app.ID, w.conv.ID)
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.CancelBotTurns(ctx, other.app.ID, w.conv.ID, "")
	wantCode(t, err, chat.CodeNotFound)
	foreign := w.msgTurn(w.conv.ID, 1)
	foreign.AppID, foreign.BotID = other.app.ID, other.bot.ID
	_, err = s.EnqueueBotTurn(ctx, foreign)
	wantCode(t, err, chat.CodeNotFound)
	if got := openTurns(t, s, w, w.conv.ID); len(got) != 1 || got[0].State != chat.BotTurnPending || got[0].AppID != w.app.ID {
		t.Fatalf("after foreign calls: %+v", got)
	}
}

// ConcurrentBotTurns drives 200 turns over 20 conversations through 8
// claimers spread over nodes (stores sharing one database and clock). Some
// claimers "die" holding a turn; between rounds, when every live claimer is
// idle, the clock passes the lease so those turns are taken over. Within a
// round time stands still, so every lease handed out in it is live, and a
// conversation must never have two of them.
func ConcurrentBotTurns(t *testing.T, nodes []store.Store, c *Clock) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const convs, perConv, claimers = 20, 10, 8
	s := nodes[0]
	w := newWorld(t, s)
	ids := make([]string, convs)
	turnConv := map[string]int{}
	for i := range ids {
		ids[i] = w.newConv(t, s).ID
		w.says(t, s, ids[i], perConv)
	}
	// Enqueue from every node at once, a conversation's turns in order.
	var ewg sync.WaitGroup
	var tmu sync.Mutex
	for i := range ids {
		ewg.Add(1)
		go func() {
			defer ewg.Done()
			for seq := int64(1); seq <= perConv; seq++ {
				bt := w.msgTurn(ids[i], seq)
				if _, err := nodes[i%len(nodes)].EnqueueBotTurn(ctx, bt); err != nil {
					t.Error(err)
					return
				}
				tmu.Lock()
				turnConv[bt.ID] = i
				tmu.Unlock()
			}
		}()
	}
	ewg.Wait()
	if t.Failed() {
		return
	}

	type holder struct {
		turn     chat.BotTurn
		round    int
		finished bool
	}
	var (
		mu       sync.Mutex
		round    int
		live     int                 // claimed by a live claimer, not yet finished
		holders  = map[int]*holder{} // conversation -> latest lease
		done     = make([]int64, convs)
		finished = map[string]int{}
		stale    []chat.BotTurn // leases of dead claimers
		total    int
	)
	dies := func(bt chat.BotTurn) bool {
		h := fnv.New32a()
		h.Write([]byte(bt.ID))
		return bt.Attempts == 1 && h.Sum32()%8 == 0
	}
	work := func(node store.Store, name string) {
		for ctx.Err() == nil {
			got, err := node.ClaimBotTurns(ctx, name, lease, 3)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, bt := range got {
				i := turnConv[bt.ID]
				if !dies(bt) {
					live++
				}
				if h := holders[i]; h != nil && !h.finished && h.round == round {
					t.Errorf("conversation %d: %s claimed while %s holds a live lease", i, bt.ID, h.turn.ID)
				}
				if bt.MessageSeq != done[i]+1 {
					t.Errorf("conversation %d: claimed seq %d after %d finished", i, bt.MessageSeq, done[i])
				}
				if h := holders[i]; h != nil && h.turn.ID == bt.ID && (bt.Attempts != h.turn.Attempts+1 || bt.LeaseToken == h.turn.LeaseToken) {
					t.Errorf("taken over as %+v after %+v", bt, h.turn)
				}
				holders[i] = &holder{turn: bt, round: round}
			}
			idle, wait := len(got) == 0 && live == 0, len(got) == 0
			mu.Unlock()
			if idle {
				return
			}
			if wait { // another claimer's finish will free a conversation
				time.Sleep(time.Millisecond)
			}
			for _, bt := range got {
				i := turnConv[bt.ID]
				mu.Lock()
				if dies(bt) {
					stale = append(stale, bt)
					mu.Unlock()
					continue
				}
				// Recorded before the finish: the next turn can only be
				// claimed once the finish is in, so this is never late.
				holders[i].finished = true
				done[i] = bt.MessageSeq
				mu.Unlock()
				err := node.FinishBotTurn(ctx, bt.ID, bt.LeaseToken, chat.BotTurnDone, "")
				mu.Lock()
				live--
				if err != nil {
					t.Errorf("finish %s: %v", bt.ID, err)
				} else {
					finished[bt.ID]++
					total++
				}
				mu.Unlock()
			}
		}
	}
	for r := 0; total < convs*perConv; r++ {
		if r > 50 || t.Failed() {
			t.Fatalf("after %d rounds %d of %d turns finished", r, total, convs*perConv)
		}
		var wg sync.WaitGroup
		for g := range claimers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work(nodes[g%len(nodes)], fmt.Sprint("node-", g%len(nodes), "-", g))
			}()
		}
		wg.Wait()
		// Every claimer is gone: leases still held are dead ones.
		mu.Lock()
		round++
		mu.Unlock()
		c.Advance(lease + time.Second)
	}
	for id, n := range finished {
		if n != 1 {
			t.Errorf("turn %s finished %d times", id, n)
		}
	}
	if len(finished) != convs*perConv {
		t.Fatalf("%d turns finished, want %d", len(finished), convs*perConv)
	}
	if len(stale) == 0 {
		t.Fatal("no claimer died: the takeover path went untested")
	}
	for _, bt := range stale {
		wantCode(t, s.FinishBotTurn(ctx, bt.ID, bt.LeaseToken, chat.BotTurnDone, ""), chat.CodeConflict)
	}
	for _, id := range ids {
		got, err := s.PendingBotTurns(ctx, w.app.ID, id)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("conversation %s still has open turns %s", id, turnIDs(got))
		}
	}
}
