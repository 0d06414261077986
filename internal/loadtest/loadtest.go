// Package loadtest measures the realtime gateway the way the widget uses it:
// many contacts, each subscribed to their conversation over GET /ws, while
// messages are sent over the same protocol. It reports end-to-end delivery
// latency (send to arrival at every subscriber), ack latency, whether every
// acknowledged message reached every subscriber exactly once and in order,
// and the server's resident memory per idle connection. The same client
// code first measures a bare gorilla/websocket fan-out server in this
// process, so each figure comes with a baseline from the same run on the
// same machine.
//
// It backs `switchboard bench ws`; lex.go backs `switchboard bench lex`,
// the same idea for the local Lex runtime. See docs/benchmarks.md.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"
)

// MaxDuration caps -duration, so that a typo cannot leave a load running.
const MaxDuration = 5 * time.Minute

// Config is one `bench ws` invocation.
type Config struct {
	URLs          []string // base URLs of the nodes; senders use the first
	APIKey        string
	Clients       int // subscribed connections under load; 0 skips the load
	Rate          int // messages per second, all conversations together
	Duration      time.Duration
	Conversations int
	Idle          int  // idle connections for the memory figure; 0 skips it
	Baseline      bool // measure the bare WebSocket server first
	// PerIP is how many connections share one loopback source address
	// when every node is on loopback; 0 uses one address for all.
	PerIP int
	// Drain bounds the wait for stragglers after the last send (default 10s).
	Drain time.Duration
	Out   io.Writer // the report
	Log   io.Writer // progress, may be nil
}

func (c *Config) check() error {
	switch {
	case c.Clients < 0 || c.Idle < 0:
		return errors.New("-clients and -idle cannot be negative")
	case c.Clients == 0 && c.Idle == 0:
		return errors.New("nothing to do: -clients and -idle are both 0")
	case c.Clients > 0 && c.Rate <= 0:
		return errors.New("-rate must be positive")
	case c.Clients > 0 && (c.Duration < time.Second || c.Duration > MaxDuration):
		return fmt.Errorf("-duration must be between 1s and %s", MaxDuration)
	case c.Conversations <= 0:
		return errors.New("-conversations must be positive")
	case c.Clients > 0 && c.Clients < c.Conversations:
		return errors.New("-clients must be at least -conversations (every conversation needs a subscriber)")
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
	}
	return nil
}

// ErrFaults is returned when the run completed but not every acknowledged
// message reached every subscriber exactly once and in order.
var ErrFaults = errors.New("delivery faults: see the report")

// Run performs the measurements cfg asks for and writes the report to
// cfg.Out. Every phase is bounded in time; cancelling ctx stops it early.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	src := sources{}
	if loopbackOnly(cfg.URLs) {
		src.perIP = cfg.PerIP
	}
	sb, err := newSwitchboard(cfg.URLs, cfg.APIKey, src)
	if err != nil {
		return err
	}
	need := uint64(max(cfg.Clients+cfg.Conversations, cfg.Idle) + 64)
	if cfg.Baseline {
		need += uint64(cfg.Clients + cfg.Conversations) // the in-process server's side too
	}
	if lim, err := raiseFileLimit(); err == nil && lim < need {
		return fmt.Errorf("this run needs about %d open files but the limit is %d: raise it with `ulimit -n %d` (and give the server process as much)", need, lim, need)
	}

	var res []*loadResult
	if cfg.Clients > 0 && cfg.Baseline {
		r, err := runBaseline(ctx, cfg, sources{perIP: cfg.PerIP})
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		res = append(res, r)
	}

	// Idle before load: see measureIdle.
	var idle *idleResult
	if cfg.Idle > 0 {
		rooms, err := sb.prepare(ctx, cfg.Conversations, runID())
		if err != nil {
			return err
		}
		if idle, err = measureIdle(ctx, sb, rooms, cfg.Idle, cfg.Log); err != nil {
			return err
		}
	}

	if cfg.Clients > 0 {
		p := cfg.params()
		// Fresh source addresses: the node may not yet have released the
		// idle connections' per-address slots.
		p.base = cfg.Idle
		r, err := runLoad(ctx, sb, p)
		if err != nil {
			// What was measured is still worth seeing beside the error.
			report(cfg.Out, cfg, res, idle)
			return fmt.Errorf("load on %s: %w", cfg.URLs[0], err)
		}
		res = append(res, r)
	}

	report(cfg.Out, cfg, res, idle)
	for _, r := range res {
		if r.faults() > 0 {
			return ErrFaults
		}
	}
	return nil
}

func (c Config) params() loadParams {
	return loadParams{clients: c.Clients, conversations: c.Conversations, rate: c.Rate, duration: c.Duration, drain: c.Drain, log: c.Log}
}

// runBaseline serves the bare fan-out server on a loopback port of this
// process and puts the same load on it.
func runBaseline(ctx context.Context, cfg Config, src sources) (*loadResult, error) {
	url, stop, err := serveBare()
	if err != nil {
		return nil, err
	}
	defer stop()
	return runLoad(ctx, &bare{url: url, src: src}, cfg.params())
}

// serveBare starts the bare fan-out server on a loopback port and returns
// its WebSocket URL and the function that stops it.
func serveBare() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: NewBareServer(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop = func() {
		// Hijacked WebSocket connections are not tracked by Shutdown; the
		// load has closed its ends, which ends their handlers.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	return "ws://" + ln.Addr().String() + "/ws", stop, nil
}

// report prints the runs side by side, the baseline first, with the ratio
// of Switchboard's latency to the baseline's.
func report(w io.Writer, cfg Config, res []*loadResult, idle *idleResult) {
	if len(res) > 0 {
		fmt.Fprintf(w, "\nLoad: %d subscribed clients over %d conversations, %d msg/s for %s, senders on %s\n\n",
			cfg.Clients, cfg.Conversations, cfg.Rate, cfg.Duration, cfg.URLs[0])
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		row := func(label string, f func(r *loadResult) string) {
			fmt.Fprintf(tw, "%s\t", label)
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t", f(r))
			}
			if len(res) == 2 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprintln(tw)
		}
		ratioRow := func(label string, f func(r *loadResult) time.Duration) {
			fmt.Fprintf(tw, "%s\t", label)
			for _, r := range res {
				fmt.Fprintf(tw, "%s\t", ms(f(r)))
			}
			if len(res) == 2 {
				ratio := "-"
				if f(res[0]) > 0 {
					ratio = fmt.Sprintf("×%.2f", float64(f(res[1]))/float64(f(res[0])))
				}
				fmt.Fprintf(tw, "%s\t", ratio)
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "\t")
		for _, r := range res {
			fmt.Fprintf(tw, "%s\t", r.target)
		}
		if len(res) == 2 {
			fmt.Fprint(tw, "ratio\t")
		}
		fmt.Fprintln(tw)
		row("nodes", func(r *loadResult) string { return fmt.Sprint(r.nodes) })
		row("messages sent / acked", func(r *loadResult) string { return fmt.Sprintf("%d / %d", r.sent, r.acked) })
		row("throughput (acked msg/s)", func(r *loadResult) string { return rate(r.acked, r.window) })
		row("deliveries/s", func(r *loadResult) string { return rate(r.received, r.window) })
		ratioRow("delivery p50 (ms)", func(r *loadResult) time.Duration { return r.delivery.P50 })
		ratioRow("delivery p90 (ms)", func(r *loadResult) time.Duration { return r.delivery.P90 })
		ratioRow("delivery p99 (ms)", func(r *loadResult) time.Duration { return r.delivery.P99 })
		ratioRow("delivery max (ms)", func(r *loadResult) time.Duration { return r.delivery.Max })
		ratioRow("ack p50 (ms)", func(r *loadResult) time.Duration { return r.ack.P50 })
		ratioRow("ack p99 (ms)", func(r *loadResult) time.Duration { return r.ack.P99 })
		row("deliveries expected / received", func(r *loadResult) string { return fmt.Sprintf("%d / %d", r.expected, r.received) })
		row("missing / extra / duplicate / seq gaps", func(r *loadResult) string {
			return fmt.Sprintf("%d / %d / %d / %d", r.missing, r.extra, r.duplicates, r.seqGaps)
		})
		row("unacked / rejected / skipped sends", func(r *loadResult) string {
			return fmt.Sprintf("%d / %d / %d", r.unacked(), r.rejected, r.skipped)
		})
		row("error frames / lost connections", func(r *loadResult) string { return fmt.Sprintf("%d / %d", r.errorFrames, r.lostConns) })
		row("client CPU (cores)", func(r *loadResult) string { return cores(r.clientCPU.Seconds(), r.window) })
		row("server CPU (cores, all nodes)", func(r *loadResult) string {
			if r.serverCPU < 0 {
				return "in client"
			}
			return cores(r.serverCPU, r.window)
		})
		row("client heap in use (MiB)", func(r *loadResult) string { return fmt.Sprintf("%.1f", float64(r.clientHeapBytes)/(1<<20)) })
		tw.Flush()
		if cfg.Baseline {
			fmt.Fprintln(w, "  (the bare server runs in this process: its CPU and heap are in the client rows)")
		}
		for _, r := range res {
			for i, s := range r.deliveryByNode {
				fmt.Fprintf(w, "  %s, subscribers on node %d (%s): %d deliveries, p50 %s ms, p99 %s ms, max %s ms\n",
					r.target, i+1, cfg.URLs[i], s.N, ms(s.P50), ms(s.P99), ms(s.Max))
			}
			if f := r.faults(); f > 0 {
				fmt.Fprintf(w, "  %s: %d FAULTS\n", r.target, f)
			}
			for _, e := range r.firstErrors {
				fmt.Fprintf(w, "  %s: %s\n", r.target, e)
			}
		}
	}
	if idle != nil {
		fmt.Fprintf(w, "\nIdle: %d subscribed connections to %s (settled after %s)\n", idle.n, cfg.URLs[0], idle.settle.Round(time.Second))
		fmt.Fprintf(w, "  resident memory %.1f → %.1f MiB: %.1f KB per connection\n", idle.rssBefore/(1<<20), idle.rssAfter/(1<<20), idle.perConnKB())
		fmt.Fprintf(w, "  Go heap in use   %.1f → %.1f MiB: %.1f KB per connection\n", idle.heapBefore/(1<<20), idle.heapAfter/(1<<20), idle.heapPerConnKB())
		fmt.Fprintf(w, "  goroutine stacks %.1f → %.1f MiB: %.1f KB per connection\n", idle.stackBefore/(1<<20), idle.stackAfter/(1<<20), idle.stackPerConnKB())
		fmt.Fprintf(w, "  goroutines       %.0f → %.0f: %.2f per connection\n", idle.goroutinesBefore, idle.goAfter, idle.goroutinesPerConn())
	}
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}

func cores(sec float64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", sec/d.Seconds())
}
