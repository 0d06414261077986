package webhook

import (
	"math/rand/v2"
	"time"
)

// Retry is the retry schedule: the n-th failed attempt waits
// Base·2^(n-1), capped at Max, with up to a fifth of it taken off at random
// so that deliveries that failed together (a receiver's outage) do not all
// return at the same instant. A delivery is given up once its event is
// older than MaxAge.
type Retry struct {
	Base   time.Duration // 0 means 5 s
	Max    time.Duration // 0 means 1 h
	MaxAge time.Duration // 0 means 24 h
}

// Defaults of Retry.
const (
	DefaultRetryBase   = 5 * time.Second
	DefaultRetryMax    = time.Hour
	DefaultRetryMaxAge = 24 * time.Hour
)

func (r Retry) withDefaults() Retry {
	if r.Base <= 0 {
		r.Base = DefaultRetryBase
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	r.Max = max(r.Max, r.Base)
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultRetryMaxAge
	}
	return r
}

// Next returns when to retry after the given failed attempt (1 for the
// first) of an event created at created, or the zero time when the event
// is too old to be retried again.
func (r Retry) Next(attempt int, created, now time.Time) time.Time {
	r = r.withDefaults()
	d := r.Base
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	d -= time.Duration(rand.Float64() * 0.2 * float64(d))
	at := now.Add(d)
	if at.Sub(created) > r.MaxAge {
		return time.Time{}
	}
	return at
}
