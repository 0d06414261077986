package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// E2EReport is what `bench e2e` prints; with -json, exactly this.
type E2EReport struct {
	Spawned      string          `json:"spawned,omitempty"` // sqlite or postgres when the bench started the nodes
	Nodes        []string        `json:"nodes"`
	Contacts     int             `json:"contacts"`
	Agents       int             `json:"agents"`
	Bot          string          `json:"bot"`
	Rate         float64         `json:"rate"`
	Duration     string          `json:"duration"`
	HandoffShare float64         `json:"handoffShare"`
	Baseline     *BaselineResult `json:"baseline,omitempty"`
	Switchboard  *E2EResult      `json:"switchboard"`
	// Ratios divide Switchboard's figure by the baseline's.
	Ratios *Ratios     `json:"ratios,omitempty"`
	Soak   *SoakResult `json:"soak,omitempty"`
}

// Latency is a latency sample's summary in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Ms"`
	P95 float64 `json:"p95Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
}

func toLatency(s summary) Latency {
	f := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{N: s.N, P50: f(s.P50), P95: f(s.P95), P99: f(s.P99), Max: f(s.Max)}
}

// BaselineResult is the bare WebSocket server under the same contacts and
// rate: send → the message frame back.
type BaselineResult struct {
	Duration   string  `json:"duration"`
	Sent       int64   `json:"sent"`
	Acked      int64   `json:"acked"`
	Throughput float64 `json:"throughput"` // acked messages/s
	Delivery   Latency `json:"delivery"`
	Faults     int64   `json:"faults"`
	CPUSeconds float64 `json:"cpuSeconds"` // this process: the server and its load
}

// E2EResult is the product under load.
type E2EResult struct {
	Window     string  `json:"window"`
	Sent       int64   `json:"sent"`
	Acked      int64   `json:"acked"`
	Throughput float64 `json:"throughput"` // acked contact messages/s
	Turns      int64   `json:"turns"`
	// Skipped counts a contact's ticks that passed while its previous
	// turn was still waiting: load the nodes could not take at this rate.
	Skipped     int64            `json:"skipped"`
	BotReply    Latency          `json:"botReply"`
	Handoff     Latency          `json:"handoff"`
	AgentReply  Latency          `json:"agentReply"`
	Ack         Latency          `json:"ack"`
	Errors      map[string]int64 `json:"errors"`
	FirstErrors []string         `json:"firstErrors,omitempty"`
	// MetricsErrors counts failed reads of a node's /metrics.
	MetricsErrors    int       `json:"metricsErrors"`
	NodeCPUSeconds   float64   `json:"nodeCpuSeconds"`
	ClientCPUSeconds float64   `json:"clientCpuSeconds"`
	Nodes            []NodeUse `json:"nodes"`
	Samples          []Sample  `json:"samples,omitempty"`
	// NodeExited is set when a spawned node's process ended during the run.
	NodeExited bool `json:"nodeExited,omitempty"`
}

// NodeUse is one node's resource use over the load.
type NodeUse struct {
	URL              string  `json:"url"`
	PID              int     `json:"pid,omitempty"`
	CPUSeconds       float64 `json:"cpuSeconds"`
	Cores            float64 `json:"cores"`
	PeakRSSMiB       float64 `json:"peakRssMiB"`
	PeakFrom         string  `json:"peakFrom"`
	GoroutinesBefore int     `json:"goroutinesBefore"`
	GoroutinesAfter  int     `json:"goroutinesAfter"`
}

// Sample is one reading of a node's /metrics.
type Sample struct {
	At         string  `json:"at"`
	Seconds    float64 `json:"seconds"`
	Node       int     `json:"node"`
	RSSMiB     float64 `json:"rssMiB"`
	HeapMiB    float64 `json:"heapMiB"`
	Goroutines int     `json:"goroutines"`
}

// Ratios compare the bot-reply latency and the throughput with the bare
// server's delivery latency and throughput at the same rate.
type Ratios struct {
	BotReplyP50 float64 `json:"botReplyP50"`
	BotReplyP99 float64 `json:"botReplyP99"`
	Throughput  float64 `json:"throughput"`
}

func (r *E2EReport) ratios() {
	b, s := r.Baseline, r.Switchboard
	if b == nil || s == nil {
		return
	}
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	r.Ratios = &Ratios{BotReplyP50: div(s.BotReply.P50, b.Delivery.P50), BotReplyP99: div(s.BotReply.P99, b.Delivery.P99),
		Throughput: div(s.Throughput, b.Throughput)}
}

// errorTotal is every error of the run, the nodes' included.
func (s *E2EResult) errorTotal() int64 {
	var n int64
	for _, v := range s.Errors {
		n += v
	}
	if s.NodeExited {
		n++
	}
	return n + int64(s.MetricsErrors)
}

func (r *E2EReport) failed() bool {
	return r.Switchboard.errorTotal() > 0 || (r.Baseline != nil && r.Baseline.Faults > 0) || (r.Soak != nil && !r.Soak.OK)
}

func writeJSONReport(w io.Writer, r *E2EReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func msf(v float64) string { return ms(time.Duration(v * float64(time.Millisecond))) }

func (r *E2EReport) print(w io.Writer) {
	s := r.Switchboard
	where := fmt.Sprint(len(r.Nodes), " node(s)")
	if r.Spawned != "" {
		where += ", spawned on " + r.Spawned
	}
	fmt.Fprintf(w, "\nEnd to end: %d contacts, %d agents, %s bot, %.1f msg/s for %s, handoff share %.2f; %s\n\n",
		r.Contacts, r.Agents, r.Bot, r.Rate, r.Duration, r.HandoffShare, where)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency (ms)\tn\tp50\tp95\tp99\tmax\t")
	lat := func(name string, l Latency) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", name, l.N, msf(l.P50), msf(l.P95), msf(l.P99), msf(l.Max))
	}
	lat("contact message → bot reply", s.BotReply)
	lat("handoff → agent notified", s.Handoff)
	lat("agent reply → contact", s.AgentReply)
	lat("contact send → ack", s.Ack)
	if b := r.Baseline; b != nil {
		lat("baseline: bare send → message", b.Delivery)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nthroughput: %.1f acked msg/s (%d sent, %d acked, %d turns, %d ticks skipped) over %s\n",
		s.Throughput, s.Sent, s.Acked, s.Turns, s.Skipped, s.Window)
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "baseline:   %.1f acked msg/s (%d sent, %d acked) over %s, %d faults, %.2f CPU s in this process\n",
			b.Throughput, b.Sent, b.Acked, b.Duration, b.Faults, b.CPUSeconds)
	}
	if q := r.Ratios; q != nil {
		fmt.Fprintf(w, "ratio to baseline: bot reply p50 ×%.2f, p99 ×%.2f; throughput ×%.3f\n", q.BotReplyP50, q.BotReplyP99, q.Throughput)
	}
	fmt.Fprintf(w, "\nerrors: %d", s.errorTotal())
	kinds := make([]string, 0, len(s.Errors))
	for k := range s.Errors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "; %s %d", k, s.Errors[k])
	}
	if s.MetricsErrors > 0 {
		fmt.Fprintf(w, "; metrics reads failed %d", s.MetricsErrors)
	}
	if s.NodeExited {
		fmt.Fprint(w, "; a node exited during the run")
	}
	fmt.Fprintln(w)
	for _, e := range s.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "\nresources (load generator: %.2f CPU s):\n", s.ClientCPUSeconds)
	for i, n := range s.Nodes {
		pid := ""
		if n.PID > 0 {
			pid = fmt.Sprintf(" pid %d", n.PID)
		}
		fmt.Fprintf(w, "  node %d %s%s: %.2f CPU s (%.2f cores), peak RSS %.1f MiB (%s), goroutines %d → %d\n",
			i+1, n.URL, pid, n.CPUSeconds, n.Cores, n.PeakRSSMiB, n.PeakFrom, n.GoroutinesBefore, n.GoroutinesAfter)
	}
	if r.Soak != nil {
		fmt.Fprintln(w, "\nsamples:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "at\tnode\tRSS MiB\theap MiB\tgoroutines\t")
		for _, x := range s.Samples {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%d\t\n", x.At, x.Node, x.RSSMiB, x.HeapMiB, x.Goroutines)
		}
		tw.Flush()
		verdict := "PASS"
		if !r.Soak.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "\nsoak: %s (%s)\n", verdict, r.Soak.Bound)
		for _, t := range r.Soak.Nodes {
			fmt.Fprintf(w, "  node %d: %d samples in the second half, RSS %.1f → %.1f MiB, trend %+.1f MiB (%+.1f%% of %.1f), goroutines %d → %d %s\n",
				t.Node, t.Samples, t.MidRSSMiB, t.LastRSSMiB, t.TrendGrowthMiB, t.TrendGrowthPct, t.MeanRSSMiB, t.MidGoroutines, t.LastGoroutines, t.Reason)
		}
	}
}
