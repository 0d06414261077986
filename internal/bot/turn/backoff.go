package turn

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces retries: the n-th wait is Base·Factor^(n-1), capped at
// Max, less a random share of up to Jitter of it. The jitter only ever
// shortens a wait, so the schedule stays within the cap, while turns that
// failed together (a bot's outage) do not all come back at the same instant.
type Backoff struct {
	Base   time.Duration // 0 means 200 ms
	Factor float64       // below 1 means 2
	Max    time.Duration // 0 means 2 s
	Jitter float64       // a fraction in (0, 1]; 0 means 0.2
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 200 * time.Millisecond
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	if b.Max <= 0 {
		b.Max = 2 * time.Second
	}
	b.Max = max(b.Max, b.Base)
	if b.Jitter <= 0 {
		b.Jitter = 0.2
	}
	b.Jitter = min(b.Jitter, 1)
	return b
}

// delay is the wait after the given failed attempt (1 for the first).
func (b Backoff) delay(attempt int) time.Duration {
	d := float64(b.Base)
	for i := 1; i < attempt && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	return time.Duration(d * (1 - b.Jitter*rand.Float64()))
}
