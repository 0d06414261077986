package lexlocal

import (
	"container/list"
	"maps"
	"sync"
	"time"
)

type sessionKey struct{ bot, alias, locale, session string }

type session struct {
	key               sessionKey
	state             SessionState
	messages          []Message
	interpretations   []Interpretation
	requestAttributes map[string]string
	expires           time.Time
}

// sessionStore keeps sessions in LRU order with a hard cap, so a client
// inventing session ids cannot grow memory without bound. Expiry is checked
// lazily on access and at the cold end on every write; that needs no
// background goroutine to own and stop.
type sessionStore struct {
	mu  sync.Mutex
	max int
	lru *list.List // front = most recently used; values are *session
	idx map[sessionKey]*list.Element
}

func newSessionStore(max int) *sessionStore {
	return &sessionStore{max: max, lru: list.New(), idx: make(map[sessionKey]*list.Element)}
}

// get returns a copy of the live session, if any.
func (st *sessionStore) get(k sessionKey, now time.Time) (session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.idx[k]
	if !ok {
		return session{}, false
	}
	s := e.Value.(*session)
	if !now.Before(s.expires) {
		st.remove(e)
		return session{}, false
	}
	return *s, true
}

func (st *sessionStore) put(s session, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.idx[s.key]; ok {
		*e.Value.(*session) = s
		st.lru.MoveToFront(e)
	} else {
		st.idx[s.key] = st.lru.PushFront(&s)
	}
	for st.lru.Len() > st.max {
		st.remove(st.lru.Back())
	}
	// Sessions share a handful of TTLs, so the cold end is where expired
	// ones collect.
	for e := st.lru.Back(); e != nil && now.After(e.Value.(*session).expires); e = st.lru.Back() {
		st.remove(e)
	}
}

func (st *sessionStore) delete(k sessionKey, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.idx[k]
	if !ok {
		return false
	}
	live := now.Before(e.Value.(*session).expires)
	st.remove(e)
	return live
}

func (st *sessionStore) remove(e *list.Element) {
	delete(st.idx, e.Value.(*session).key)
	st.lru.Remove(e)
}

// cloneState copies the maps a caller could mutate, so stored sessions are
// never changed behind the store's back. Slots are treated as immutable
// values once built.
func cloneState(s SessionState) SessionState {
	s.SessionAttributes = maps.Clone(s.SessionAttributes)
	if s.DialogAction != nil {
		da := *s.DialogAction
		s.DialogAction = &da
	}
	if s.Intent != nil {
		in := *s.Intent
		in.Slots = maps.Clone(in.Slots)
		s.Intent = &in
	}
	return s
}
