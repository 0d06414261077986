package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// testWebhookRetention: the sweep deletes finished deliveries older than
// the cut-off in bounded batches, then their events, never an open
// delivery or its event, and cuts each endpoint's log back to its last
// webhook.LogSize attempts.
func testWebhookRetention(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	e := w.endpoint(t, s, webhook.MessageCreated)
	// Spread over conversations: each sends one at a time, in order.
	const convs, each = 10, webhook.LogSize/5 + 1
	const finished = convs * each
	for range convs {
		w.says(t, s, w.newConv(t, s).ID, each)
	}
	if got := len(drain(t, s)); got != finished {
		t.Fatalf("drained %d, want %d", got, finished)
	}
	// One more, failing and waiting for its retry: open, so it stays.
	open := w.newConv(t, s)
	w.says(t, s, open.ID, 1)
	head := claimDeliveries(t, s, 10)
	if len(head) != 1 {
		t.Fatalf("claimed %d, want the open one", len(head))
	}
	_, err := s.FinishWebhookDelivery(ctx, head[0].ID, head[0].LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 500},
		RetryAt: c.Now().Add(365 * 24 * time.Hour)})
	must(t, err)

	// Nothing is old enough yet: the sweep finds nothing to delete but the
	// log beyond its size.
	p, err := s.PurgeWebhooks(ctx, c.Now().Add(-time.Hour), 1000)
	must(t, err)
	if p.Deliveries != 0 || p.Events != 0 {
		t.Fatalf("a sweep of nothing old deleted %+v", p)
	}
	if n := attemptCount(t, s, w, e.ID); n != webhook.LogSize {
		t.Fatalf("the log kept %d attempts, want %d", n, webhook.LogSize)
	}

	c.Advance(8 * 24 * time.Hour)
	cut := c.Now().Add(-7 * 24 * time.Hour)
	// Bounded: one call deletes at most limit of each.
	p, err = s.PurgeWebhooks(ctx, cut, 50)
	must(t, err)
	if p.Deliveries != 50 || p.Events != 50 {
		t.Fatalf("a sweep of 50 deleted %+v", p)
	}
	var total store.WebhookPurge
	total.Deliveries, total.Events = p.Deliveries, p.Events
	for range 20 {
		p, err = s.PurgeWebhooks(ctx, cut, 50)
		must(t, err)
		total.Deliveries += p.Deliveries
		total.Events += p.Events
		if p.Deliveries == 0 && p.Events == 0 {
			break
		}
	}
	if total.Deliveries != finished || total.Events != finished {
		t.Fatalf("sweeps deleted %+v, want %d finished deliveries and their events", total, finished)
	}
	ds, err := s.ListWebhookDeliveries(ctx, w.app.ID, e.ID, 100)
	must(t, err)
	if len(ds) != 1 || ds[0].ID != head[0].ID {
		t.Fatalf("after the sweep the endpoint has %d deliveries, want only the open one", len(ds))
	}
	// The open delivery still has its event: it is retried with the same
	// body and id.
	c.Advance(366 * 24 * time.Hour)
	again := claimDeliveries(t, s, 10)
	if len(again) != 1 || again[0].ID != head[0].ID || again[0].Event.ID != head[0].Event.ID ||
		string(again[0].Event.Body) != string(head[0].Event.Body) {
		t.Fatalf("the open delivery came back as %+v", again)
	}
	// A repeat sweep (another node) finds nothing left.
	p, err = s.PurgeWebhooks(ctx, cut, 50)
	must(t, err)
	if p != (store.WebhookPurge{}) {
		t.Fatalf("a repeat sweep deleted %+v", p)
	}
}

func attemptCount(t *testing.T, s store.Store, w *world, endpointID string) int {
	t.Helper()
	// ListWebhookAttempts shows at most the log size, so that cannot tell
	// whether more are kept; the sweep's own count can: a second sweep
	// after the first deletes nothing only when the log is at its size.
	p, err := s.PurgeWebhooks(context.Background(), time.Unix(0, 0), 1<<20)
	must(t, err)
	if p.Attempts != 0 {
		t.Fatalf("a second sweep deleted %d more attempts", p.Attempts)
	}
	as, err := s.ListWebhookAttempts(context.Background(), w.app.ID, endpointID, webhook.LogSize)
	must(t, err)
	return len(as)
}
