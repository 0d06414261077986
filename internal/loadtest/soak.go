package loadtest

import (
	"fmt"
	"time"
)

// Soak bounds. Memory that only settles (heap growing to its GC goal,
// caches filling) does so in the first half; a leak keeps climbing in the
// second. So the second half is judged: the least-squares slope of
// resident memory over it, times its length, is the growth the trend
// shows, and it must stay within soakMaxGrowth of the half's mean
// resident memory. Goroutines are judged by their count at the end of the
// run against the middle, with a little room for timers and pools.
const (
	soakMaxGrowth          = 0.10
	soakGoroutineSlack     = 0.10
	soakGoroutineSlackAbs  = 20
	soakMinSamplesPerHalf  = 3
	soakMinSamplesExplain  = "too few samples in the second half to see a trend"
	soakGoroutineExplainer = "goroutines grew from %d to %d over the second half (bound %d)"
)

// SoakResult is the verdict on a soak, node by node.
type SoakResult struct {
	OK    bool            `json:"ok"`
	Bound string          `json:"bound"`
	Nodes []SoakNodeTrend `json:"nodes"`
}

// SoakNodeTrend is one node's second-half trend.
type SoakNodeTrend struct {
	Node           int     `json:"node"`
	Samples        int     `json:"samples"`
	MidRSSMiB      float64 `json:"midRssMiB"`
	LastRSSMiB     float64 `json:"lastRssMiB"`
	MeanRSSMiB     float64 `json:"meanRssMiB"`
	TrendGrowthMiB float64 `json:"trendGrowthMiB"` // slope × the half's length
	TrendGrowthPct float64 `json:"trendGrowthPct"`
	MidGoroutines  int     `json:"midGoroutines"`
	LastGoroutines int     `json:"lastGoroutines"`
	OK             bool    `json:"ok"`
	Reason         string  `json:"reason,omitempty"`
}

// soakVerdict judges the samples of a run of length d.
func soakVerdict(samples []Sample, d time.Duration) *SoakResult {
	out := &SoakResult{OK: true, Bound: fmt.Sprintf("second-half RSS trend within %.0f%% of its mean; goroutines at the end within %.0f%%+%d of the middle",
		soakMaxGrowth*100, soakGoroutineSlack*100, soakGoroutineSlackAbs)}
	byNode := map[int][]Sample{}
	maxNode := 0
	for _, s := range samples {
		if s.Seconds >= d.Seconds()/2 {
			byNode[s.Node] = append(byNode[s.Node], s)
		}
		maxNode = max(maxNode, s.Node)
	}
	for n := 1; n <= maxNode; n++ {
		t := trend(n, byNode[n])
		out.OK = out.OK && t.OK
		out.Nodes = append(out.Nodes, t)
	}
	if maxNode == 0 {
		out.OK = false
	}
	return out
}

func trend(node int, half []Sample) SoakNodeTrend {
	t := SoakNodeTrend{Node: node, Samples: len(half)}
	if len(half) < soakMinSamplesPerHalf {
		t.Reason = soakMinSamplesExplain
		return t
	}
	first, last := half[0], half[len(half)-1]
	t.MidRSSMiB, t.LastRSSMiB = first.RSSMiB, last.RSSMiB
	t.MidGoroutines, t.LastGoroutines = first.Goroutines, last.Goroutines
	var sx, sy float64
	for _, s := range half {
		sx += s.Seconds
		sy += s.RSSMiB
	}
	n := float64(len(half))
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, s := range half {
		sxy += (s.Seconds - mx) * (s.RSSMiB - my)
		sxx += (s.Seconds - mx) * (s.Seconds - mx)
	}
	t.MeanRSSMiB = my
	if sxx > 0 {
		t.TrendGrowthMiB = sxy / sxx * (last.Seconds - first.Seconds)
	}
	if my > 0 {
		t.TrendGrowthPct = 100 * t.TrendGrowthMiB / my
	}
	t.OK = true
	if t.TrendGrowthPct > soakMaxGrowth*100 {
		t.OK = false
		t.Reason = fmt.Sprintf("resident memory trends up %.1f MiB (%.1f%%) over the second half", t.TrendGrowthMiB, t.TrendGrowthPct)
	}
	bound := first.Goroutines + int(float64(first.Goroutines)*soakGoroutineSlack) + soakGoroutineSlackAbs
	if last.Goroutines > bound {
		t.OK = false
		t.Reason = fmt.Sprintf(soakGoroutineExplainer, first.Goroutines, last.Goroutines, bound)
	}
	return t
}
