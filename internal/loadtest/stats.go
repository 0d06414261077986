package loadtest

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// latencies is a sample of durations. Every sample is kept, not a sketch:
// a run is capped at 5 minutes, which at the default load is well under two
// million samples, and exact percentiles leave nothing to argue about.
type latencies []time.Duration

// summary is what the report prints for one latency sample.
type summary struct {
	N                       int
	P50, P90, P95, P99, Max time.Duration
}

func (l latencies) summarize() summary {
	s := slices.Clone(l)
	slices.Sort(s)
	out := summary{N: len(s)}
	if len(s) == 0 {
		return out
	}
	out.P50 = percentile(s, 50)
	out.P90 = percentile(s, 90)
	out.P95 = percentile(s, 95)
	out.P99 = percentile(s, 99)
	out.Max = s[len(s)-1]
	return out
}

// percentile returns the nearest-rank percentile p (0 < p ≤ 100) of sorted:
// the smallest sample with at least p% of the samples at or below it. Unlike
// interpolating definitions it always names a latency that was observed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ms formats a duration in milliseconds with enough precision for sub-ms
// latencies on loopback.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	prec := 0
	switch {
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}
