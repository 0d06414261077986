// Package bustest is the behaviour suite every bus.Bus must pass, run for
// the in-process bus and for NATS alike.
package bustest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Run runs the suite. open returns two nodes of one bus (for the in-process
// bus they may be the same value) and registers their Close as a cleanup;
// Close must tolerate being called twice.
func Run(t *testing.T, open func(t *testing.T) (a, b bus.Bus)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b bus.Bus)
	}{
		{"ExactlyOnceEverywhere", testExactlyOnce},
		{"OrderPerPublisher", testOrder},
		{"Unsubscribe", testUnsubscribe},
		{"Close", testClose},
		{"ConcurrentPublishers", testConcurrentPublishers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := open(t)
			tc.fn(t, a, b)
		})
	}
}

// waitFor bounds every wait; settle is how long "nothing more arrives" is
// watched for after the expected events came.
const (
	waitFor = 10 * time.Second
	settle  = 150 * time.Millisecond
)

// collector records the events of one app (a shared NATS server may carry
// other tests' events too). Its fn never blocks, as subscribers must not.
type collector struct {
	app    string
	mu     sync.Mutex
	got    []bus.Event
	notify chan struct{}
}

func newCollector(app string) *collector {
	return &collector{app: app, notify: make(chan struct{}, 1)}
}

func (c *collector) fn(e bus.Event) {
	if e.AppID != c.app {
		return
	}
	c.mu.Lock()
	c.got = append(c.got, e)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *collector) snapshot() []bus.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bus.Event(nil), c.got...)
}

// waitN waits until n events arrived, then checks that no more do.
func (c *collector) waitN(t *testing.T, name string, n int) []bus.Event {
	t.Helper()
	deadline := time.After(waitFor)
	for len(c.snapshot()) < n {
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("%s: %d events after %v, want %d", name, len(c.snapshot()), waitFor, n)
		}
	}
	time.Sleep(settle)
	got := c.snapshot()
	if len(got) != n {
		t.Fatalf("%s: %d events, want exactly %d", name, len(got), n)
	}
	return got
}

func publish(t *testing.T, b bus.Bus, e bus.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func testExactlyOnce(t *testing.T, a, b bus.Bus) {
	app := chat.NewID()
	ca, cb := newCollector(app), newCollector(app)
	defer a.Subscribe(ca.fn)()
	defer b.Subscribe(cb.fn)()

	// Every field survives the trip, whichever node publishes.
	want := map[int64]bus.Event{}
	for i := range 10 {
		for j, node := range []bus.Bus{a, b} {
			e := bus.Event{Type: bus.TypeMessage, AppID: app, ConversationID: "c" + fmt.Sprint(j), Seq: int64(j*100 + i + 1)}
			if i%3 == 0 {
				e.Type, e.ConversationID, e.Data = bus.TypePresence, "", json.RawMessage(`{"agentId":"a1","status":"online"}`)
			}
			want[e.Seq] = e
			publish(t, node, e)
		}
	}
	for name, c := range map[string]*collector{"node a": ca, "node b": cb} {
		seen := map[int64]bool{}
		for _, e := range c.waitN(t, name, len(want)) {
			w, ok := want[e.Seq]
			e.Node = "" // implementations may stamp the publishing node
			if !ok || seen[e.Seq] || e.Type != w.Type || e.AppID != w.AppID || e.ConversationID != w.ConversationID || string(e.Data) != string(w.Data) {
				t.Fatalf("%s: unexpected or repeated event %+v (want %+v)", name, e, w)
			}
			seen[e.Seq] = true
		}
	}
}

func testOrder(t *testing.T, a, b bus.Bus) {
	app := chat.NewID()
	ca, cb := newCollector(app), newCollector(app)
	defer a.Subscribe(ca.fn)()
	defer b.Subscribe(cb.fn)()
	const n = 300
	for i := range n {
		publish(t, a, bus.Event{Type: bus.TypeMessage, AppID: app, ConversationID: "c", Seq: int64(i + 1)})
	}
	for name, c := range map[string]*collector{"node a": ca, "node b": cb} {
		for i, e := range c.waitN(t, name, n) {
			if e.Seq != int64(i+1) {
				t.Fatalf("%s: event %d has seq %d: out of order", name, i, e.Seq)
			}
		}
	}
}

func testUnsubscribe(t *testing.T, a, b bus.Bus) {
	app := chat.NewID()
	gone, kept := newCollector(app), newCollector(app)
	unsub := b.Subscribe(gone.fn)
	defer b.Subscribe(kept.fn)()
	publish(t, a, bus.Event{Type: bus.TypeInbox, AppID: app, Seq: 1})
	gone.waitN(t, "before unsubscribe", 1)
	unsub()
	unsub() // twice is harmless
	for i := range 5 {
		publish(t, a, bus.Event{Type: bus.TypeInbox, AppID: app, Seq: int64(i + 2)})
	}
	kept.waitN(t, "still subscribed", 6)
	if got := gone.snapshot(); len(got) != 1 {
		t.Fatalf("unsubscribed fn got %d events, want 1", len(got))
	}
}

func testClose(t *testing.T, a, b bus.Bus) {
	app := chat.NewID()
	cb := newCollector(app)
	b.Subscribe(cb.fn)
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := b.Publish(context.Background(), bus.Event{Type: bus.TypeInbox, AppID: app}); err == nil {
		t.Fatal("publish after close succeeded")
	}
	if a != b {
		// The other node carries on, and the closed one hears nothing.
		ca := newCollector(app)
		defer a.Subscribe(ca.fn)()
		publish(t, a, bus.Event{Type: bus.TypeInbox, AppID: app, Seq: 1})
		ca.waitN(t, "open node", 1)
	}
	time.Sleep(settle)
	if got := cb.snapshot(); len(got) != 0 {
		t.Fatalf("closed node delivered %+v", got)
	}
}

func testConcurrentPublishers(t *testing.T, a, b bus.Bus) {
	app := chat.NewID()
	ca, cb := newCollector(app), newCollector(app)
	defer a.Subscribe(ca.fn)()
	defer b.Subscribe(cb.fn)()
	const publishers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		node := []bus.Bus{a, b}[p%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := bus.Event{Type: bus.TypeMessage, AppID: app, ConversationID: fmt.Sprintf("p%d", p), Seq: int64(i + 1)}
				if err := node.Publish(context.Background(), e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for name, c := range map[string]*collector{"node a": ca, "node b": cb} {
		last := map[string]int64{}
		for _, e := range c.waitN(t, name, publishers*each) {
			if e.Seq != last[e.ConversationID]+1 {
				t.Fatalf("%s: publisher %s: seq %d after %d", name, e.ConversationID, e.Seq, last[e.ConversationID])
			}
			last[e.ConversationID] = e.Seq
		}
	}
}
