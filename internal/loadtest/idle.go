package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// idleResult is the server's footprint of n idle, subscribed connections.
type idleResult struct {
	n                         int
	rssBefore, rssAfter       float64
	heapBefore, heapAfter     float64
	stackBefore, stackAfter   float64
	goroutinesBefore, goAfter float64
	settle                    time.Duration
}

func (r *idleResult) perConnKB() float64 { return (r.rssAfter - r.rssBefore) / float64(r.n) / 1024 }
func (r *idleResult) heapPerConnKB() float64 {
	return (r.heapAfter - r.heapBefore) / float64(r.n) / 1024
}
func (r *idleResult) stackPerConnKB() float64 {
	return (r.stackAfter - r.stackBefore) / float64(r.n) / 1024
}
func (r *idleResult) goroutinesPerConn() float64 {
	return (r.goAfter - r.goroutinesBefore) / float64(r.n)
}

// settleLimit and settleSteady define "settled" for the idle measurement.
const (
	settleLimit  = 4 * time.Minute
	settleSteady = 10
)

// measureIdle opens n authenticated connections to node 0, each subscribed
// to one of rooms, waits for the server's resident memory to settle and
// reports the growth. The figure is only honest on a node that has not yet
// served heavier traffic: memory freed by earlier load would be reused by
// the new connections and hide their cost, so Run measures this first.
func measureIdle(ctx context.Context, t target, rooms []room, n int, log io.Writer) (*idleResult, error) {
	url := t.metricsURL(0)
	if url == "" {
		return nil, fmt.Errorf("%s has no metrics endpoint", t.name())
	}
	names := []string{metricRSS, metricHeapInuse, metricStackInuse, metricGoroutines, metricGCCycles}
	before, err := scrape(ctx, url, names...)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	conns, err := dialAll(ctx, t, 0, n, func(i int) (int, room) { return 0, rooms[i%len(rooms)] })
	if err != nil {
		return nil, fmt.Errorf("idle %w", err)
	}
	// Readers answer the server's pings (gorilla replies to ping frames
	// while a read is in progress) and report the subscription.
	var wg sync.WaitGroup
	subs := make([]*subscriber, n)
	defer func() {
		closeAll(conns)
		wg.Wait()
	}()
	for i, c := range conns {
		s := &subscriber{conn: c, ready: make(chan error, 1)}
		subs[i] = s
		if err := writeJSON(c, subscribeFrame{Type: "subscribe", ConversationID: rooms[i%len(rooms)].id}); err != nil {
			return nil, fmt.Errorf("idle subscribe: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			idleReader(s)
		}()
	}
	if err := waitReady(ctx, subs, 60*time.Second); err != nil {
		return nil, fmt.Errorf("idle: %w", err)
	}
	logf(log, "%s: %d idle connections subscribed (%s); waiting for memory to settle", t.name(), n, since(start))

	// Settled means: a garbage collection has completed since the last
	// connection was made (before it, the handshakes' garbage still counts
	// as resident, and how much of it depends on GC timing, not on what an
	// idle connection keeps), and then two readings a second apart within
	// 0.5% of each other for settleSteady seconds in a row (the runtime
	// returns freed pages to the system gradually, so a single steady second
	// can still include garbage). An idle server allocates little, so the
	// first collection may be the runtime's forced one, up to two minutes
	// later.
	settleStart := time.Now()
	connected, err := scrape(ctx, url, metricGCCycles)
	if err != nil {
		return nil, err
	}
	var after map[string]float64
	prev, steady := math.NaN(), 0
	for deadline := time.Now().Add(settleLimit); ; {
		if !sleepCtx(ctx, time.Second) {
			return nil, ctx.Err()
		}
		after, err = scrape(ctx, url, names...)
		if err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			logf(log, "%s: memory did not settle within %s; reporting the last reading", t.name(), settleLimit)
			break
		}
		rss := after[metricRSS]
		if after[metricGCCycles] > connected[metricGCCycles] && math.Abs(rss-prev) <= 0.005*rss {
			steady++
		} else {
			steady = 0
		}
		if steady >= settleSteady {
			break
		}
		prev = rss
	}
	return &idleResult{
		n:         n,
		rssBefore: before[metricRSS], rssAfter: after[metricRSS],
		heapBefore: before[metricHeapInuse], heapAfter: after[metricHeapInuse],
		stackBefore: before[metricStackInuse], stackAfter: after[metricStackInuse],
		goroutinesBefore: before[metricGoroutines], goAfter: after[metricGoroutines],
		settle: time.Since(settleStart),
	}, nil
}

func idleReader(s *subscriber) {
	ready := false
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			if !ready {
				s.ready <- fmt.Errorf("connection closed before subscribing: %w", err)
			}
			return
		}
		if ready {
			continue
		}
		var f inFrame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		switch f.Type {
		case "subscribed":
			ready = true
			s.ready <- nil
		case "error":
			ready = true
			s.ready <- fmt.Errorf("%s", errorText(data))
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
