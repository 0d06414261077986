package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// writer sends messages to one conversation without pause, retrying a
// failed send with the same clientKey until it is acknowledged, as a
// client must. It records every acknowledgement and every failure.
type writer struct {
	convID string

	mu       sync.Mutex
	acked    map[string]int64 // clientKey -> seq
	failures []failure
}

type failure struct {
	status int // 0: no HTTP answer
	took   time.Duration
	err    error
}

func (w *writer) ackCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) failureCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.failures)
}

// run sends until ctx ends.
func (w *writer) run(ctx context.Context, n *node) {
	for i := 0; ctx.Err() == nil; {
		key := fmt.Sprintf("%s-%d", w.convID, i)
		// Each request is bounded well below the test's patience: a
		// request that hangs through an outage is a failure too.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		var m message
		status, err := call(rctx, n, "POST", "/api/v1/conversations/"+w.convID+"/messages",
			map[string]any{"text": key, "sender": map[string]string{"type": "contact"}, "clientKey": key}, &m)
		cancel()
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		if err == nil {
			w.acked[key] = m.Seq
			i++
		} else {
			w.failures = append(w.failures, failure{status: status, took: time.Since(start), err: err})
		}
		w.mu.Unlock()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// verify requires every acknowledged message in the history, once, with
// the seq it was acknowledged with.
func (w *writer) verify(t *testing.T, n *node) int {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := ackedIn(w.convID, history(t, n, w.convID), w.acked); err != nil {
		t.Fatal(err)
	}
	return len(w.acked)
}

// ackedIn checks a conversation's history against a client's
// acknowledgements: each contact message's clientKey stored once, and
// each acknowledged key stored with the seq it was acknowledged with.
func ackedIn(convID string, msgs []message, acked map[string]int64) error {
	keys := map[string]int64{}
	for _, m := range msgs {
		if m.Sender.Type != "contact" {
			continue
		}
		if _, dup := keys[m.ClientKey]; dup {
			return fmt.Errorf("conversation %s: %s stored twice", convID, m.ClientKey)
		}
		keys[m.ClientKey] = m.Seq
	}
	for key, seq := range acked {
		if got, ok := keys[key]; !ok || got != seq {
			return fmt.Errorf("conversation %s: %s acknowledged as seq %d, stored as %d (found: %v)", convID, key, seq, got, ok)
		}
	}
	return nil
}

// PostgreSQL crashes (an immediate shutdown: no checkpoint, recovery from
// the WAL on restart) while a node is writing. The node stays up, answers
// during the outage with a quick 503 rather than hanging, reports itself
// not ready, and recovers by itself when the database is back; nothing it
// acknowledged is lost.
func TestChaosPostgresRestart(t *testing.T) {
	pg := testsvc.StartPostgres(t)
	n := startNode(t, map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_DATABASE_URL":      pg.URL,
		"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
		"SWITCHBOARD_LOG_LEVEL":         "warn",
	})
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})

	const writers, per = 3, 15
	ws := make([]*writer, writers)
	for i := range ws {
		var conv conversation
		api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": fmt.Sprint("pg-chaos-", i)}}, http.StatusCreated, &conv)
		ws[i] = &writer{convID: conv.ID, acked: map[string]int64{}}
	}
	// And a contact's widget over /ws, which must be told to retry too.
	var wconv conversation
	api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": "pg-chaos-ws"}}, http.StatusCreated, &wconv)
	var tok struct {
		Token string `json:"token"`
	}
	api.do("POST", "/api/v1/contacts/"+wconv.ContactID+"/token", nil, http.StatusCreated, &tok)
	widget := &loadClient{n: n, convID: wconv.ID, token: tok.Token, acked: map[string]int64{}}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(loadCtx, n) }()
	}
	stopWidget := make(chan struct{})
	widgetErr := make(chan error, 1)
	go func() { widgetErr <- widget.send(ctx, stopWidget) }()
	defer func() { stopLoad(); wg.Wait() }()
	allAcked := func(k int) func() bool {
		return func() bool {
			select {
			case err := <-widgetErr:
				t.Fatalf("the widget stopped: %v", err)
			default:
			}
			for _, w := range ws {
				if w.ackCount() < k {
					return false
				}
			}
			return widget.ackCount() >= k
		}
	}
	waitFor(t, 30*time.Second, "writes before the crash", allAcked(per))

	pg.Stop(syscall.SIGQUIT)
	down := time.Now()
	waitFor(t, 15*time.Second, "/readyz reporting the outage", func() bool { return n.readyStatus() == http.StatusServiceUnavailable })
	waitFor(t, 15*time.Second, "writes failing during the outage", func() bool {
		for _, w := range ws {
			if w.failureCount() == 0 {
				return false
			}
		}
		return true
	})
	// An outage of a few seconds, long enough for every writer to retry
	// a number of times.
	for time.Since(down) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	before := make([]int, len(ws))
	for i, w := range ws {
		before[i] = w.ackCount()
	}
	widgetBefore := widget.ackCount()

	pg.Start()
	back := time.Now()
	waitFor(t, 30*time.Second, "/readyz after PostgreSQL came back", func() bool { return n.readyStatus() == http.StatusOK })
	readyAfter := time.Since(back)
	waitFor(t, 30*time.Second, "writes after PostgreSQL came back", func() bool {
		select {
		case err := <-widgetErr:
			t.Fatalf("the widget stopped: %v", err)
		default:
		}
		for i, w := range ws {
			if w.ackCount() < before[i]+per {
				return false
			}
		}
		return widget.ackCount() >= widgetBefore+per
	})
	stopLoad()
	wg.Wait()
	close(stopWidget)
	if err := <-widgetErr; err != nil {
		t.Fatalf("the widget: %v", err)
	}
	widgetMsgs := history(t, n, widget.convID)
	if err := ackedIn(widget.convID, widgetMsgs, widget.acked); err != nil {
		t.Fatal(err)
	}
	// The widget sees its whole conversation, in order, once.
	err := widget.drain(ctx, lastOf(widgetMsgs))
	if widget.ws != nil {
		widget.ws.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	// The node stayed up, so the widget's connection did too: retrying
	// through an outage is not a misbehaving client.
	if widget.reconnects != 0 {
		t.Fatalf("the widget's connection was closed %d times during the database outage", widget.reconnects)
	}

	total, failed := 0, 0
	var slowest time.Duration
	for _, w := range ws {
		total += w.verify(t, n)
		for _, f := range w.failures {
			failed++
			slowest = max(slowest, f.took)
			if f.status != http.StatusServiceUnavailable {
				t.Fatalf("a write during the outage failed with status %d, want 503: %v", f.status, f.err)
			}
		}
	}
	t.Logf("postgres down for %v; node ready %v after it was back", back.Sub(down).Round(time.Millisecond), readyAfter.Round(time.Millisecond))
	t.Logf("checked: %d messages acknowledged over REST, all %d found once with their seq; %d writes refused during the outage, all 503, slowest answer %v",
		total, total, failed, slowest.Round(time.Millisecond))
	t.Logf("checked: %d messages acknowledged over /ws, all found once with their seq; the widget received all %d in seq order, none twice, on one connection",
		len(widget.acked), widget.received)
}
