package loadtest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	var done atomic.Int64
	if err := forEach(context.Background(), 100, 8, func(context.Context, int) error { done.Add(1); return nil }); err != nil || done.Load() != 100 {
		t.Fatalf("all jobs: done %d, err %v", done.Load(), err)
	}

	refused := errors.New("refused")
	var started atomic.Int64
	err := forEach(context.Background(), 10000, 4, func(ctx context.Context, i int) error {
		started.Add(1)
		if i == 3 {
			return refused
		}
		return nil
	})
	if !errors.Is(err, refused) {
		t.Fatalf("err = %v, want the first failure", err)
	}
	if started.Load() >= 10000 {
		t.Fatal("work went on after the first failure")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := forEach(ctx, 5, 2, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}
