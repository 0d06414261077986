package periodic_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/periodic"
)

// Calls come on the timer, each bounded by the limit, and Every returns
// once its context ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		periodic.Every(ctx, 5*time.Millisecond, 20*time.Millisecond, func(rctx context.Context) {
			deadline, ok := rctx.Deadline()
			if !ok || time.Until(deadline) > 20*time.Millisecond {
				t.Errorf("call context deadline %v (set %v), want within the 20ms limit", deadline, ok)
			}
			// A call that outlives its limit sees its context end.
			<-rctx.Done()
			calls.Add(1)
		})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls after 30s, want 3", calls.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
}
