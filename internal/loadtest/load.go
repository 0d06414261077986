package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// loadParams is one load run's shape.
type loadParams struct {
	clients, conversations, rate int
	duration                     time.Duration
	// drain bounds the wait for acks and deliveries after the last send.
	drain time.Duration
	// base numbers the run's first connection (see sources).
	base int
	log  io.Writer
}

// loadResult is what one run measured against one target.
type loadResult struct {
	target          string
	clients         int
	conversations   int
	nodes           int
	rate            int
	window          time.Duration // from the first send to the last
	sent            int64         // send frames written
	acked           int64
	rejected        int64 // sends answered with an error frame
	skipped         int64 // sends the pacer could not hand to a sender in time
	expected        int64 // deliveries owed: acked messages × their subscribers
	received        int64 // distinct load messages delivered
	missing, extra  int64
	duplicates      int64
	seqGaps         int64
	lostConns       int64
	errorFrames     int64
	firstErrors     []string
	delivery, ack   summary
	deliveryByNode  []summary // when nodes > 1: by the subscriber's node
	clientCPU       time.Duration
	serverCPU       float64 // seconds over the window, all nodes; <0 when unknown
	clientHeapBytes uint64
}

// unacked counts sends that got neither an ack nor an error.
func (r *loadResult) unacked() int64 { return r.sent - r.acked - r.rejected }

// faults is the number the run is judged by: anything other than every
// acked message reaching every subscriber exactly once, in order.
func (r *loadResult) faults() int64 {
	return r.missing + r.extra + r.duplicates + r.seqGaps + r.unacked() + r.rejected + r.errorFrames + r.lostConns + r.skipped
}

// load is the state of one run. Subscribers and senders are connections of
// this process; every goroutine it starts is counted in wg and ends when the
// connections are closed.
type load struct {
	p        loadParams
	t        target
	mark     marker
	rooms    []room
	subs     []*subscriber
	sends    []*sender
	wg       sync.WaitGroup
	writers  sync.WaitGroup // the senders' writers, also counted in wg
	closed   atomic.Bool
	stopOnce sync.Once

	acked     []atomic.Int64 // by room
	received  atomic.Int64
	sent      atomic.Int64
	ackedAll  atomic.Int64
	rejected  atomic.Int64
	dups      atomic.Int64
	gaps      atomic.Int64
	lost      atomic.Int64
	errFrames atomic.Int64

	errMu     sync.Mutex
	firstErrs []string
}

type subscriber struct {
	conn     *websocket.Conn
	room     int
	node     int
	ready    chan error // one value: subscribed, or why not
	lastSeq  int64      // owned by the reader goroutine
	received int64      // owned by the reader goroutine
	lat      latencies  // owned by the reader goroutine
}

type sender struct {
	conn    *websocket.Conn
	room    int
	jobs    chan int64
	mu      sync.Mutex
	pending map[string]time.Time
	ackLat  latencies
}

func (l *load) noteError(msg string) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if len(l.firstErrs) < 5 {
		l.firstErrs = append(l.firstErrs, msg)
	}
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// runLoad opens p.clients subscribers spread evenly over p.conversations
// (and over the target's nodes), one sender per conversation on node 0, and
// sends p.rate messages a second for p.duration, recording for every
// delivery the time from the send to its arrival.
func runLoad(ctx context.Context, t target, p loadParams) (*loadResult, error) {
	run := runID()
	l := &load{p: p, t: t, mark: marker{run: run, epoch: time.Now()}}
	defer l.close()

	start := time.Now()
	rooms, err := t.prepare(ctx, p.conversations, run)
	if err != nil {
		return nil, err
	}
	l.rooms = rooms
	l.acked = make([]atomic.Int64, len(rooms))
	logf(p.log, "%s: %d conversations ready (%s)", t.name(), len(rooms), since(start))

	if err := l.openSubscribers(ctx); err != nil {
		return nil, err
	}
	logf(p.log, "%s: %d subscribers connected and subscribed over %d node(s) (%s)", t.name(), len(l.subs), t.nodes(), since(start))
	if err := l.openSenders(ctx); err != nil {
		return nil, err
	}

	cpu0, cpuErr0 := serverCPU(ctx, t)
	ru0 := processCPU()
	logf(p.log, "%s: sending %d msg/s for %s from %d sender connections", t.name(), p.rate, p.duration, len(l.sends))
	first, last, skipped := l.pace(ctx)
	l.stopSending()
	l.writers.Wait() // so that sent is final before acks are counted against it
	l.waitFor(ctx, p.drain, func() bool { return l.ackedAll.Load()+l.rejected.Load() >= l.sent.Load() })
	var owed int64
	for _, s := range l.subs {
		owed += l.acked[s.room].Load()
	}
	l.waitFor(ctx, p.drain, func() bool { return l.received.Load() >= owed })
	clientCPU := processCPU() - ru0
	cpu1, cpuErr1 := serverCPU(ctx, t)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	l.close()
	r := &loadResult{
		target: t.name(), clients: len(l.subs), conversations: len(rooms), nodes: t.nodes(), rate: p.rate,
		window: last.Sub(first), skipped: skipped, clientCPU: clientCPU, serverCPU: -1,
	}
	if cpuErr0 == nil && cpuErr1 == nil && t.metricsURL(0) != "" {
		r.serverCPU = cpu1 - cpu0
	}
	l.collect(r)
	return r, nil
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// dialAll opens n connections, 32 at a time, stopping at the first
// failure. Connection i is number base+i of the run, which picks its source address.
func dialAll(ctx context.Context, t target, base, n int, pick func(i int) (node int, r room)) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	err := forEach(ctx, n, 32, func(ctx context.Context, i int) error {
		node, r := pick(i)
		c, err := t.dial(ctx, node, base+i, r)
		if err != nil {
			return fmt.Errorf("connection %d of %d: %w", i+1, n, err)
		}
		conns[i] = c
		return nil
	})
	if err != nil {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return nil, err
	}
	return conns, nil
}

func (l *load) openSubscribers(ctx context.Context) error {
	R, N := len(l.rooms), l.t.nodes()
	// Subscriber i joins room i mod R on node (i div R) mod N, so that every
	// room has subscribers on every node: with i mod N a room's subscribers
	// would all share one node whenever N divides R.
	place := func(i int) (int, int) { return i % R, (i / R) % N }
	conns, err := dialAll(ctx, l.t, l.p.base, l.p.clients, func(i int) (int, room) {
		r, node := place(i)
		return node, l.rooms[r]
	})
	if err != nil {
		return err
	}
	for i, c := range conns {
		r, node := place(i)
		s := &subscriber{conn: c, room: r, node: node, ready: make(chan error, 1)}
		l.subs = append(l.subs, s)
		if err := writeJSON(c, subscribeFrame{Type: "subscribe", ConversationID: l.rooms[r].id}); err != nil {
			return fmt.Errorf("subscribing: %w", err)
		}
		l.wg.Add(1)
		go l.readSubscriber(s)
	}
	return waitReady(ctx, l.subs, 30*time.Second)
}

func waitReady(ctx context.Context, subs []*subscriber, limit time.Duration) error {
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for i, s := range subs {
		select {
		case err := <-s.ready:
			if err != nil {
				return fmt.Errorf("subscriber %d of %d: %w", i+1, len(subs), err)
			}
		case <-timeout.C:
			return fmt.Errorf("subscriber %d of %d not subscribed after %s", i+1, len(subs), limit)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func writeJSON(c *websocket.Conn, v any) error {
	_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.WriteJSON(v)
}

func (l *load) readSubscriber(s *subscriber) {
	defer l.wg.Done()
	ready := false
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			if !ready {
				s.ready <- fmt.Errorf("connection closed before subscribing: %w", err)
			} else if !l.closed.Load() {
				l.lost.Add(1)
				l.noteError("subscriber connection lost: " + err.Error())
			}
			return
		}
		now := time.Now()
		var f inFrame
		if err := json.Unmarshal(data, &f); err != nil {
			l.errFrames.Add(1)
			l.noteError("undecodable frame: " + err.Error())
			continue
		}
		switch f.Type {
		case "subscribed":
			if !ready {
				ready = true
				s.ready <- nil
			}
		case "message":
			l.deliver(s, &f, now)
		case "error":
			l.errFrames.Add(1)
			l.noteError(errorText(data))
			if !ready {
				ready = true
				s.ready <- errors.New(errorText(data))
			}
		}
	}
}

// deliver checks the stream's order and records the latency of a load
// message. The conversation holds only this run's messages, so its seqs
// must arrive as 1, 2, 3, …: a repeat is a duplicate and a jump is a gap.
func (l *load) deliver(s *subscriber, f *inFrame, now time.Time) {
	if f.Seq <= s.lastSeq {
		l.dups.Add(1)
		return
	}
	if f.Seq != s.lastSeq+1 {
		l.gaps.Add(f.Seq - s.lastSeq - 1)
	}
	s.lastSeq = f.Seq
	sent, ok := l.mark.parse(f.messageText())
	if !ok {
		return
	}
	s.lat = append(s.lat, now.Sub(sent))
	s.received++
	l.received.Add(1)
}

func (l *load) openSenders(ctx context.Context) error {
	conns, err := dialAll(ctx, l.t, l.p.base+l.p.clients, len(l.rooms), func(i int) (int, room) { return 0, l.rooms[i] })
	if err != nil {
		return fmt.Errorf("sender %w", err)
	}
	for i, c := range conns {
		s := &sender{conn: c, room: i, jobs: make(chan int64, 64), pending: map[string]time.Time{}}
		l.sends = append(l.sends, s)
		l.wg.Add(2)
		l.writers.Add(1)
		go l.readSender(s)
		go l.writeSender(s)
	}
	return nil
}

func (l *load) writeSender(s *sender) {
	defer l.wg.Done()
	defer l.writers.Done()
	for i := range s.jobs {
		key := l.mark.run + "-" + strconv.FormatInt(i, 10)
		now := time.Now()
		s.mu.Lock()
		s.pending[key] = now
		s.mu.Unlock()
		err := writeJSON(s.conn, sendFrame{Type: "send", ConversationID: l.rooms[s.room].id, ClientKey: key, Text: l.mark.text(i, now)})
		if err != nil {
			s.mu.Lock()
			delete(s.pending, key)
			s.mu.Unlock()
			if !l.closed.Load() {
				l.lost.Add(1)
				l.noteError("sender: " + err.Error())
			}
			// The connection is unusable; keep draining jobs so the pacer never blocks.
			for range s.jobs {
			}
			return
		}
		l.sent.Add(1)
	}
}

func (l *load) readSender(s *sender) {
	defer l.wg.Done()
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			if !l.closed.Load() {
				l.lost.Add(1)
				l.noteError("sender connection lost: " + err.Error())
			}
			return
		}
		now := time.Now()
		var f inFrame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		switch f.Type {
		case "ack":
			s.mu.Lock()
			at, ok := s.pending[f.ClientKey]
			delete(s.pending, f.ClientKey)
			if ok {
				s.ackLat = append(s.ackLat, now.Sub(at))
			}
			s.mu.Unlock()
			if ok {
				l.acked[s.room].Add(1)
				l.ackedAll.Add(1)
			}
		case "error":
			l.errFrames.Add(1)
			l.noteError(errorText(data))
			if f.ClientKey != "" {
				s.mu.Lock()
				_, ok := s.pending[f.ClientKey]
				delete(s.pending, f.ClientKey)
				s.mu.Unlock()
				if ok {
					l.rejected.Add(1)
				}
			}
		}
	}
}

// pace hands out rate×duration sends on a fixed schedule. A send that is
// late goes out at once, so the pacer catches up instead of lowering the
// rate; a sender whose queue is full is counted as skipped (a client-side
// saturation), never waited for.
func (l *load) pace(ctx context.Context) (first, last time.Time, skipped int64) {
	total := int64(float64(l.p.rate) * l.p.duration.Seconds())
	interval := time.Duration(float64(time.Second) / float64(l.p.rate))
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	first = start
	for i := int64(0); i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return first, time.Now(), skipped
			}
		} else if ctx.Err() != nil {
			return first, time.Now(), skipped
		}
		select {
		case l.sends[i%int64(len(l.sends))].jobs <- i:
		default:
			skipped++
		}
	}
	return first, time.Now(), skipped
}

// waitFor polls cond until it holds, limit passes or ctx ends.
func (l *load) waitFor(ctx context.Context, limit time.Duration, cond func() bool) {
	deadline := time.Now().Add(limit)
	for !cond() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// close ends every connection and waits for the goroutines reading them.
func (l *load) close() {
	if l.closed.Swap(true) {
		return
	}
	closeAll(l.subConns())
	closeAll(l.sendConns())
	l.stopSending() // writers range over jobs until it is closed
	l.wg.Wait()
}

func (l *load) stopSending() {
	l.stopOnce.Do(func() {
		for _, s := range l.sends {
			close(s.jobs)
		}
	})
}

func (l *load) subConns() []*websocket.Conn {
	out := make([]*websocket.Conn, len(l.subs))
	for i, s := range l.subs {
		out[i] = s.conn
	}
	return out
}

func (l *load) sendConns() []*websocket.Conn {
	out := make([]*websocket.Conn, len(l.sends))
	for i, s := range l.sends {
		out[i] = s.conn
	}
	return out
}

// closeAll says goodbye politely (so the server logs no errors) and then
// closes the sockets, which ends the readers.
func closeAll(conns []*websocket.Conn) {
	bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	deadline := time.Now().Add(time.Second)
	for _, c := range conns {
		_ = c.WriteControl(websocket.CloseMessage, bye, deadline)
		c.Close()
	}
}

// collect fills r from the finished run; the readers have stopped, so their
// fields can be read without locks.
func (l *load) collect(r *loadResult) {
	var all latencies
	byNode := make([]latencies, l.t.nodes())
	for _, s := range l.subs {
		owed := l.acked[s.room].Load()
		r.expected += owed
		r.received += s.received
		if s.received < owed {
			r.missing += owed - s.received
		} else {
			r.extra += s.received - owed
		}
		all = append(all, s.lat...)
		byNode[s.node] = append(byNode[s.node], s.lat...)
	}
	r.delivery = all.summarize()
	if len(byNode) > 1 {
		for _, b := range byNode {
			r.deliveryByNode = append(r.deliveryByNode, b.summarize())
		}
	}
	var acks latencies
	for _, s := range l.sends {
		acks = append(acks, s.ackLat...)
	}
	r.ack = acks.summarize()
	r.sent, r.acked, r.rejected = l.sent.Load(), l.ackedAll.Load(), l.rejected.Load()
	r.duplicates, r.seqGaps, r.lostConns, r.errorFrames = l.dups.Load(), l.gaps.Load(), l.lost.Load(), l.errFrames.Load()
	r.firstErrors = l.firstErrs
	r.clientHeapBytes = heapInUse()
}
