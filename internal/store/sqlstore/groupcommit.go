package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// batcher is group commit: callers hand it items and wait, while committer
// goroutines gather whatever has queued up into one batch and apply it in one
// transaction. Durable commits cost an fsync each, and an fsync costs the same
// for one row as for five hundred, so under load the batch grows and the
// fsync is shared; an idle store still commits a lone item at once, because a
// committer never waits for company.
type batcher[T any] struct {
	reqs  chan *call[T]
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	max   int
	apply func(ctx context.Context, batch []T) (finish func())

	// gather is held while a committer collects a batch and runs its
	// statements, and released before the commit. With two committers one
	// batch's commit (its fsync wait) overlaps the next batch's work, yet
	// batches still form one after the other: they are never split between
	// idle committers, which would halve them for no gain.
	gather sync.Mutex
}

type call[T any] struct {
	ctx     context.Context
	items   []T
	done    chan struct{}
	skipped bool // the caller had gone before the batch began; set before done closes
}

var errClosed = errors.New("sqlstore: store is closed")

// applyTimeout bounds one batch, so that a wedged database cannot hold Close
// forever.
const applyTimeout = 30 * time.Second

func newBatcher[T any](committers, max int, apply func(ctx context.Context, batch []T) (finish func())) *batcher[T] {
	b := &batcher[T]{
		// Unbuffered on purpose: a send that succeeds means a committer owns
		// the item and will answer it, and after stop no send can succeed.
		reqs:  make(chan *call[T]),
		stop:  make(chan struct{}),
		max:   max,
		apply: apply,
	}
	b.wg.Add(committers)
	for range committers {
		go b.run()
	}
	return b
}

// do queues items and waits until they have been applied, all in the same
// batch and in the order given (a batch is bounded in calls, so one call's
// items are never split). The apply function records the outcome in each
// item itself. When ctx ends first, do returns its
// error; an item already taken by a committer may still be applied, which is
// why appends carry client keys for retries.
func (b *batcher[T]) do(ctx context.Context, items ...T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &call[T]{ctx: ctx, items: items, done: make(chan struct{})}
	select {
	case b.reqs <- c:
	case <-b.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-c.done:
		if c.skipped {
			return ctx.Err()
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher[T]) run() {
	defer b.wg.Done()
	calls := make([]*call[T], 0, b.max)
	items := make([]T, 0, b.max)
	for {
		calls, items = calls[:0], items[:0]
		b.gather.Lock()
		select {
		case c := <-b.reqs:
			calls = append(calls, c)
		case <-b.stop:
			b.gather.Unlock()
			return
		}
	gather:
		for len(calls) < b.max {
			select {
			case c := <-b.reqs:
				calls = append(calls, c)
			default:
				break gather
			}
		}
		live := calls[:0]
		for _, c := range calls {
			if c.ctx.Err() != nil {
				c.skipped = true
				close(c.done)
				continue
			}
			live = append(live, c)
			items = append(items, c.items...)
		}
		if len(items) == 0 {
			b.gather.Unlock()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		finish := b.apply(ctx, items)
		b.gather.Unlock()
		finish()
		cancel()
		for _, c := range live {
			close(c.done)
		}
	}
}

// close stops the committers after the batches in flight and waits for them.
func (b *batcher[T]) close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}
