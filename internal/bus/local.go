package bus

import (
	"context"
	"errors"
	"sync"
)

// Local is the in-process bus: Publish calls every subscriber in turn, in
// the publisher's goroutine. Subscribers must not block (see Bus).
type Local struct {
	mu     sync.RWMutex
	subs   map[int]func(Event)
	next   int
	closed bool
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{subs: map[int]func(Event){}} }

var errClosed = errors.New("bus: closed")

// Publish delivers e to every current subscriber before returning.
func (l *Local) Publish(_ context.Context, e Event) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return errClosed
	}
	for _, fn := range l.subs {
		fn(e)
	}
	return nil
}

// Subscribe registers fn.
func (l *Local) Subscribe(fn func(Event)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.next
	l.next++
	l.subs[id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs, id)
	}
}

// Close drops every subscriber; later publishes fail.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.subs = map[int]func(Event){}
	return nil
}
