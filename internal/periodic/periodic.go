// Package periodic runs the background sweeps every node does on a timer
// (auto-resolve, fallback emails).
package periodic

import (
	"context"
	"time"
)

// Every calls run every interval until ctx ends, and returns when it has.
// The caller owns the goroutine: it cancels ctx and waits for the return.
// Each call gets a context bounded by limit, so a wedged database or relay
// cannot pile calls up; run reports its own failures.
func Every(ctx context.Context, every, limit time.Duration, run func(context.Context)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, limit)
		run(rctx)
		cancel()
	}
}
