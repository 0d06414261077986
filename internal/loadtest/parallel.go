package loadtest

import (
	"context"
	"sync"
)

// forEach runs job(ctx, i) for i in [0, n) on at most workers goroutines,
// and stops handing out work at the first failure: once a server refuses
// one request, the rest would only repeat it. It returns that first error,
// or ctx's.
func forEach(ctx context.Context, n, workers int, job func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := job(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
