package deliver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/webhook"
	"github.com/switchboard-chat/switchboard/internal/webhook/deliver"
)

// BenchmarkWebhookDelivery measures outgoing webhooks on one node, on
// SQLite and on PostgreSQL (skipped without SWITCHBOARD_TEST_POSTGRES),
// against an instant receiver on loopback (docs/benchmarks.md). Run it
// with -benchtime 1x.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *fixture
	}{{"sqlite", newFixture}, {"postgres", postgresFixture}} {
		// drain: events queued while no worker runs, then one worker
		// started; deliveries per second until the receiver has them all.
		// The baseline, measured first in the same run against the same
		// receiver, is a bare HTTP client sending as many requests with
		// as many in flight: what the receiver and loopback allow.
		b.Run(db.name+"/drain", func(b *testing.B) {
			for range b.N {
				f := db.open(b)
				benchDrain(b, f, []*fixture{f}, 10000, 256)
			}
		})
		// latency: messages sent through the service at a steady rate
		// while the worker runs; the delay from the message's creation
		// (its createdAt, stamped in the commit that makes it durable) to
		// the receiver getting the event.
		for _, rate := range []int{200, 1000} {
			b.Run(fmt.Sprint(db.name, "/latency-", rate, "per-s"), func(b *testing.B) {
				for range b.N {
					benchLatency(b, db.open(b), 5*rate, rate, 64)
				}
			})
		}
	}
	// Two nodes: two stores on one PostgreSQL database, each with its own
	// worker, draining one queue between them.
	b.Run("postgres-2-nodes/drain", func(b *testing.B) {
		for range b.N {
			bs := bus.NewLocal()
			svcs, stores := postgresNodes(b, pgtest.URL(b), 2, bs)
			f := fixtureOn(b, svcs[0], stores[0], bs)
			g := &fixture{t: b, svc: svcs[1], store: stores[1], bus: bs}
			benchDrain(b, f, []*fixture{f, g}, 10000, 256)
		}
	})
}

// stageTimes adds up the wall time of the workers' store calls, the
// stages of a delivery that are round trips to the database.
type stageTimes struct {
	mu                        sync.Mutex
	claims, finishes          int
	claimTime, finishTime     time.Duration
	claimed, finished, reused int
}

// timedStore is a store whose delivery calls are timed into t.
type timedStore struct {
	store.Store
	t *stageTimes
}

func (s timedStore) ClaimWebhookDeliveries(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]webhook.Delivery, error) {
	start := time.Now()
	ds, err := s.Store.ClaimWebhookDeliveries(ctx, nodeID, lease, limit)
	s.t.add(func(t *stageTimes) { t.claims++; t.claimTime += time.Since(start); t.claimed += len(ds) })
	return ds, err
}

func (s timedStore) FinishWebhookDeliveries(ctx context.Context, fs []webhook.Finish) ([]webhook.FinishResult, error) {
	start := time.Now()
	rs, err := s.Store.FinishWebhookDeliveries(ctx, fs)
	s.t.add(func(t *stageTimes) { t.finishes++; t.finishTime += time.Since(start); t.finished += len(fs) })
	return rs, err
}

func (s timedStore) FinishAndClaimWebhookDeliveries(ctx context.Context, fs []webhook.Finish, nodeID string, lease time.Duration,
	limit int) ([]webhook.FinishResult, []webhook.Delivery, error) {
	start := time.Now()
	rs, ds, err := s.Store.FinishAndClaimWebhookDeliveries(ctx, fs, nodeID, lease, limit)
	s.t.add(func(t *stageTimes) {
		t.finishes++
		t.finishTime += time.Since(start)
		t.finished += len(fs)
		t.reused += len(ds)
	})
	return rs, ds, err
}

func (t *stageTimes) add(f func(*stageTimes)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

// report gives each stage's mean wall time per call and items per call.
func (t *stageTimes) report(b *testing.B) {
	t.mu.Lock()
	defer t.mu.Unlock()
	per := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(max(n, 1)) }
	b.ReportMetric(per(t.claimTime, t.claims), "claim-ms")
	b.ReportMetric(float64(t.claimed)/float64(max(t.claims, 1)), "claimed/claim")
	b.ReportMetric(per(t.finishTime, t.finishes), "finish-ms")
	b.ReportMetric(float64(t.finished)/float64(max(t.finishes, 1)), "finished/finish")
	b.ReportMetric(float64(t.reused)/float64(max(t.finishes, 1)), "claimed/finish")
}

func postgresFixture(t testing.TB) *fixture {
	bs := bus.NewLocal()
	svcs, stores := postgresNodes(t, pgtest.URL(t), 1, bs)
	return fixtureOn(t, svcs[0], stores[0], bs)
}

// bareRate sends n requests with body to url from a plain keep-alive HTTP
// client, inflight at a time, and returns requests per second.
func bareRate(b *testing.B, url string, body []byte, n, inflight int) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: inflight, MaxIdleConnsPerHost: inflight}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// benchReceiver answers 204 at once and reports each event's body.
func benchReceiver(b *testing.B, onEvent func(id string, body []byte)) *receiver {
	return newReceiver(b, func(_ int, r received, w http.ResponseWriter) {
		onEvent(r.id, r.body)
		w.WriteHeader(http.StatusNoContent)
	})
}

func benchConvs(f *fixture, n int) []chat.Conversation {
	out := []chat.Conversation{f.conv}
	for len(out) < n {
		out = append(out, f.newConv())
	}
	return out
}

// benchDrain queues events through f, then starts a worker on each of
// nodes and times until the receiver has them all.
func benchDrain(b *testing.B, f *fixture, nodes []*fixture, events, convs int) {
	var mu sync.Mutex
	got := map[string]bool{}
	done := make(chan struct{})
	rc := benchReceiver(b, func(id string, _ []byte) {
		if id == "" {
			return // the baseline's bare requests
		}
		mu.Lock()
		defer mu.Unlock()
		got[id] = true
		if len(got) == events {
			close(done)
		}
	})
	f.endpoint(rc.URL, service.WebhookInput{})
	cs := benchConvs(f, convs)
	var last *chat.Message
	for i := range events {
		last = f.say(cs[i%convs].ID, "m")
	}
	ev, err := webhook.MessageEvent(last, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The baseline sends bodies as big as the events'.
	bare := bareRate(b, rc.URL, bytes.Repeat([]byte("x"), len(ev.Body)), events, deliver.DefaultConcurrency)
	b.ResetTimer()
	var stages stageTimes
	start := time.Now()
	for i, n := range nodes {
		g := *n
		g.store = timedStore{Store: n.store, t: &stages}
		g.worker(deliver.Options{AllowPrivate: true, NodeID: fmt.Sprint("node-", i)})
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		b.Fatalf("drained only %d of %d in 60 s", len(got), events)
	}
	rate := float64(events) / time.Since(start).Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(bare, "bare-req/s")
	b.ReportMetric(rate/bare, "of-bare")
	stages.report(b)
}

func benchLatency(b *testing.B, f *fixture, events, rate, convs int) {
	var mu sync.Mutex
	var delays []time.Duration
	done := make(chan struct{})
	rc := benchReceiver(b, func(_ string, body []byte) {
		now := time.Now()
		var ev struct{ Data chat.Message }
		if err := json.Unmarshal(body, &ev); err != nil {
			b.Error(err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		delays = append(delays, now.Sub(ev.Data.CreatedAt))
		if len(delays) == events {
			close(done)
		}
	})
	f.endpoint(rc.URL, service.WebhookInput{})
	cs := benchConvs(f, convs)
	var stages stageTimes
	g := *f
	g.store = timedStore{Store: f.store, t: &stages}
	g.worker(deliver.Options{AllowPrivate: true})
	b.ResetTimer()
	// Sends start on a steady clock, each on its own goroutine (at most
	// 64 at once), the way many clients' requests arrive.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range events {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, _, err := f.svc.SendMessage(context.Background(), f.actor, cs[i%convs].ID,
				service.SendInput{Text: fmt.Sprint(i), Sender: &chat.Sender{Type: chat.SenderContact}})
			if err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		b.Fatalf("only %d of %d delivered in 60 s", len(delays), events)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(delays)
	q := func(p float64) float64 { return float64(delays[int(p*float64(len(delays)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(events), "events")
	stages.report(b)
}
