package realtime

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/switchboard-chat/switchboard/internal/bus"
)

// A stream is one ordered, gap-free sequence this node delivers: a
// conversation's messages, or an app's inbox events. It exists while it has
// subscribers here. It knows the highest seq it has read (head) and keeps
// the last few frames (ring), so that one store read per node per event
// serves every subscriber.
type stream struct {
	g      *Gateway
	key    string
	appID  string
	convID string // empty for an inbox stream

	mu      sync.Mutex
	head    int64  // highest seq read; the ring, when not empty, ends at it
	ring    []item // consecutive seqs
	target  int64  // highest seq known to exist
	probe   bool   // the store must be asked for the head (event without seq)
	running bool   // a fill goroutine runs
	subs    map[*subscription]struct{}

	// statusMu orders status deliveries: each reads the store and queues
	// under it, so the last frame queued carries the latest state even
	// when two changes race.
	statusMu sync.Mutex
	// statusWaiting (under mu) says a status delivery has started and not
	// yet read the store: a change meanwhile needs no delivery of its own,
	// since that read will see it. A burst of changes thus costs at most
	// two deliveries at a time, not a goroutine each.
	statusWaiting bool
}

type item struct {
	seq   int64
	frame []byte
}

func convKey(appID, convID string) string { return "c/" + appID + "/" + convID }
func inboxKey(appID string) string        { return "i/" + appID }

// fetch reads up to limit entries after seq from the store and encodes
// them.
func (s *stream) fetch(ctx context.Context, after int64, limit int) ([]item, error) {
	if s.convID == "" {
		evs, err := s.g.o.Store.ListInboxEvents(ctx, s.appID, after, limit)
		if err != nil {
			return nil, err
		}
		out := make([]item, len(evs))
		for i := range evs {
			out[i] = item{evs[i].Seq, s.g.inboxBytes(&evs[i])}
		}
		return out, nil
	}
	msgs, err := s.g.o.Store.ListMessages(ctx, s.appID, s.convID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]item, len(msgs))
	for i := range msgs {
		out[i] = item{msgs[i].Seq, s.g.messageBytes(&msgs[i])}
	}
	return out, nil
}

func (s *stream) storeHead(ctx context.Context) (int64, error) {
	if s.convID == "" {
		return s.g.o.Store.InboxSeq(ctx, s.appID)
	}
	seqs, err := s.g.o.Store.LastSeqs(ctx, s.appID, []string{s.convID})
	return seqs[s.convID], err
}

// notify records that seq exists (0: "something changed, ask the store")
// and starts the fill goroutine if none runs. It never blocks, so the bus
// callback may call it.
func (s *stream) notify(seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq == 0 {
		s.probe = true
	} else if seq > s.target {
		s.target = seq
	}
	if s.running || (!s.probe && s.target <= s.head) {
		return
	}
	s.running = true
	s.g.spawn(s.fill)
}

// fill reads what is known to exist beyond head into the ring, one page
// at a time, and hands each new head to every subscriber. It ends when head
// reaches the target, on a store error (reconciliation retries) or when
// nobody listens any more.
func (s *stream) fill() {
	ctx, cancel := context.WithTimeout(s.g.ctx, opTimeout)
	defer cancel()
	for {
		s.mu.Lock()
		probe := s.probe
		s.probe = false
		s.mu.Unlock()
		if probe {
			if h, err := s.storeHead(ctx); err == nil {
				s.mu.Lock()
				if h > s.target {
					s.target = h
				}
				s.mu.Unlock()
			}
		}
		s.mu.Lock()
		if s.target <= s.head || len(s.subs) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		from, to := s.head, s.target
		if to-from > ringSize {
			// Far behind: only the tail is worth caching; subscribers
			// below it read the store themselves.
			from = to - ringSize
			s.ring, s.head = nil, from
		}
		s.mu.Unlock()
		items, err := s.fetch(ctx, from, int(min(to-from, storePage)))
		s.mu.Lock()
		if err != nil || len(items) == 0 || s.head != from {
			s.running = false
			s.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				s.g.log.Warn("realtime: reading the store", "stream", s.key, "err", err)
			}
			return
		}
		for _, it := range items {
			if it.seq == s.head+1 {
				s.ring = append(s.ring, it)
				s.head = it.seq
			}
		}
		if n := len(s.ring); n > ringSize {
			// Copied, not resliced: readers hold subslices of the old array.
			s.ring = append([]item(nil), s.ring[n-ringSize:]...)
		}
		head := s.head
		subs := make([]*subscription, 0, len(s.subs))
		for sub := range s.subs {
			subs = append(subs, sub)
		}
		s.mu.Unlock()
		for _, sub := range subs {
			sub.advance(ctx, head)
		}
	}
}

// cached returns the ring's frames in (from, to], or nil when the ring does
// not start at or before from+1.
func (s *stream) cached(from, to int64) []item {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ring) == 0 || from >= s.head {
		return nil
	}
	first := s.ring[0].seq
	if from+1 < first {
		return nil
	}
	end := min(to, s.head)
	return s.ring[from+1-first : end+1-first : end+1-first]
}

// subscription is one connection's interest in one stream. Its cursor is
// the last seq delivered; only the goroutine holding busy moves it, and
// everything it delivers goes through drain, so no path can skip ahead of
// another or send a seq twice.
type subscription struct {
	c *conn
	s *stream

	mu     sync.Mutex
	cursor int64
	want   int64
	busy   bool
	ready  bool // the subscribed frame has been queued
	gone   bool
}

// addSub registers a subscription that starts busy: deliveries that race
// with the subscribe only raise want, and start() delivers them after the
// subscribed frame.
func (g *Gateway) addSub(c *conn, key, appID, convID string, head, after int64) *subscription {
	g.mu.Lock()
	st := g.streams[key]
	if st == nil {
		st = &stream{g: g, key: key, appID: appID, convID: convID, head: head, target: head, subs: map[*subscription]struct{}{}}
		g.streams[key] = st
	}
	sub := &subscription{c: c, s: st, cursor: after, want: head, busy: true}
	st.mu.Lock()
	st.subs[sub] = struct{}{}
	st.mu.Unlock()
	g.mu.Unlock()
	// head came from the store just now; the stream may lag behind it.
	st.notify(head)
	return sub
}

func (g *Gateway) removeSub(sub *subscription) {
	sub.mu.Lock()
	sub.gone = true
	sub.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := sub.s
	st.mu.Lock()
	delete(st.subs, sub)
	empty := len(st.subs) == 0
	st.mu.Unlock()
	if empty && g.streams[st.key] == st {
		delete(g.streams, st.key)
	}
}

// start is called by the reader after the subscribed frame: it replays
// (cursor, head] and whatever arrived meanwhile, waiting for the writer
// when the replay is long.
func (sub *subscription) start(ctx context.Context, head int64) {
	sub.mu.Lock()
	sub.ready = true
	if head > sub.want {
		sub.want = head
	}
	if sub.cursor < sub.want {
		sub.c.g.metrics.replays.Inc()
	}
	sub.drainLocked(ctx, true)
}

// advance asks for delivery up to seq n. If another goroutine is
// delivering, it only raises want, which that goroutine honours before it
// lets go.
func (sub *subscription) advance(ctx context.Context, n int64) {
	sub.mu.Lock()
	if n > sub.want {
		sub.want = n
	}
	if sub.busy || sub.gone {
		sub.mu.Unlock()
		return
	}
	sub.busy = true
	sub.drainLocked(ctx, false)
}

// drainLocked delivers (cursor, want] and releases busy and mu. It reads
// from the stream's ring when that covers the range, else from the store,
// a page at a time; each round moves the cursor forward or stops, so the
// loop is bounded by want - cursor.
func (sub *subscription) drainLocked(ctx context.Context, replay bool) {
	defer func() {
		sub.busy = false
		sub.mu.Unlock()
	}()
	for sub.cursor < sub.want && !sub.gone {
		from, to := sub.cursor, sub.want
		sub.mu.Unlock()
		items := sub.s.cached(from, to)
		var err error
		if items == nil {
			items, err = sub.s.fetch(ctx, from, int(min(to-from, storePage)))
		}
		last, ok := from, err == nil
		for _, it := range items {
			if !ok || it.seq <= last || it.seq > to {
				break
			}
			if replay {
				if r, _ := sub.c.roomy(); !r && !sub.c.waitRoom() {
					ok = false
					break
				}
			}
			if !sub.c.enqueue(it.frame) {
				ok = false
				break
			}
			if sub.s.convID != "" {
				sub.c.g.metrics.sent.Inc()
			}
			last = it.seq
		}
		sub.mu.Lock()
		sub.cursor = last
		if !ok || last == from {
			// Nothing could be delivered now; reconciliation pokes
			// lagging subscriptions again.
			return
		}
	}
}

// onEvent is the bus callback. It must not block: it only records what
// exists and starts fills, or hands presence to the loop.
func (g *Gateway) onEvent(e bus.Event) {
	switch e.Type {
	case bus.TypeMessage:
		if st := g.stream(convKey(e.AppID, e.ConversationID)); st != nil {
			st.notify(e.Seq)
		}
	case bus.TypeInbox:
		if st := g.stream(inboxKey(e.AppID)); st != nil {
			st.notify(e.Seq)
		}
		if e.ConversationID != "" {
			if st := g.stream(convKey(e.AppID, e.ConversationID)); st != nil && st.wantStatus() {
				g.spawn(st.deliverStatus)
			}
		}
	case bus.TypeTyping:
		g.deliverTyping(e)
	case bus.TypePresence:
		select {
		case g.events <- e:
		default:
			// The loop is behind; the next presence refresh recomputes
			// what contacts are told.
		}
	}
}

func (g *Gateway) stream(key string) *stream {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.streams[key]
}

// deliverTyping passes a typing event to the conversation's subscribers
// here, except connections of the typist themself.
func (g *Gateway) deliverTyping(e bus.Event) {
	st := g.stream(convKey(e.AppID, e.ConversationID))
	if st == nil {
		return
	}
	var d typingData
	if json.Unmarshal(e.Data, &d) != nil {
		return
	}
	frame := encode(typingFrame{Type: frameTyping, ConversationID: e.ConversationID, Sender: d.Sender, Typing: d.Typing})
	st.mu.Lock()
	subs := make([]*subscription, 0, len(st.subs))
	for sub := range st.subs {
		subs = append(subs, sub)
	}
	st.mu.Unlock()
	for _, sub := range subs {
		if self, ok := sub.c.p.sender(); ok && self == d.Sender {
			continue
		}
		sub.mu.Lock()
		ready := sub.ready && !sub.gone
		sub.mu.Unlock()
		if ready {
			sub.c.tryEnqueue(frame)
		}
	}
}

// deliverStatus reads the conversation and tells its contact subscribers
// here its status and assignee kind. Staff connections learn of the change
// from the inbox stream.
func (s *stream) deliverStatus() {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	s.mu.Lock()
	s.statusWaiting = false
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.g.ctx, opTimeout)
	defer cancel()
	conv, err := s.g.o.Store.GetConversation(ctx, s.appID, s.convID)
	if err != nil {
		if ctx.Err() == nil {
			s.g.log.Warn("realtime: reading a conversation's status", "stream", s.key, "err", err)
		}
		return
	}
	st := contactState{ID: conv.ID, Status: conv.Status, StatusName: conv.Status.String()}
	if conv.Assignee != nil {
		st.Assignee = &assigneeOfKind{Type: conv.Assignee.Type}
	}
	frame := encode(statusFrame{Type: frameConvStatus, ConversationID: conv.ID, Conversation: st})
	for _, sub := range s.contactSubs() {
		sub.mu.Lock()
		// A subscription still starting gets it too: the change may land
		// between its subscribed frame and its replay, and a status frame
		// carries the whole state, with no seq to keep in order.
		gone := sub.gone
		sub.mu.Unlock()
		if !gone {
			// Queued like a message, not dropped when busy: a lost status
			// would leave the banner wrong until the next change.
			sub.c.enqueue(frame)
		}
	}
}

// wantStatus says whether a status change needs a delivery started: a
// contact listens here (staff learn of it from the inbox stream, with no
// read of the store for this), and no delivery is waiting to read already.
func (s *stream) wantStatus() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statusWaiting || len(s.contactSubsLocked()) == 0 {
		return false
	}
	s.statusWaiting = true
	return true
}

// contactSubs are the stream's subscriptions of contacts, not staff.
func (s *stream) contactSubs() []*subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contactSubsLocked()
}

func (s *stream) contactSubsLocked() []*subscription {
	var subs []*subscription
	for sub := range s.subs {
		if !sub.c.p.staff() {
			subs = append(subs, sub)
		}
	}
	return subs
}
