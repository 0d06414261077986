package turn

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{}.withDefaults()
	cases := []struct {
		attempt int
		full    time.Duration // the wait before jitter
	}{
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{4, 1600 * time.Millisecond},
		{5, 2 * time.Second},
		{50, 2 * time.Second},
	}
	for _, c := range cases {
		for range 100 {
			d := b.delay(c.attempt)
			low := time.Duration(float64(c.full) * (1 - b.Jitter))
			if d > c.full || d < low {
				t.Fatalf("delay(%d) = %s, want within [%s, %s]", c.attempt, d, low, c.full)
			}
		}
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Millisecond, Factor: 0.5, Jitter: 7}.withDefaults()
	if b.Max != time.Second || b.Factor != 2 || b.Jitter != 1 {
		t.Errorf("withDefaults = %+v", b)
	}
}
