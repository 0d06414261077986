package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The e2e bench (`switchboard bench e2e`) plays the whole product the way
// people use it: contacts in the widget (a widget session, a conversation,
// the realtime socket) talking to a bot, a share of them asking for a
// person, and agents signed in to the dashboard's socket who are told, take
// over and reply. Three latencies are measured, each inside this one
// process on one monotonic clock:
//
//   - bot reply: a contact's send frame leaving → the bot's reply arriving
//     on that contact's socket;
//   - handoff: the contact's talk-to-human call starting → an agent's
//     socket receiving the inbox event for that conversation;
//   - agent reply: the agent's REST send starting → the reply arriving on
//     the contact's socket.
//
// In the same invocation the bare WebSocket server (BareServer) is loaded
// with the same contacts at the same rate, so every figure has a baseline.

// MaxE2EDuration caps -duration of the e2e bench (a soak runs for minutes).
const MaxE2EDuration = 30 * time.Minute

// maxBaselineDuration caps the baseline's run: it is steady within
// seconds, and a soak would otherwise spend as long on it.
const maxBaselineDuration = 20 * time.Second

// E2EConfig is one `bench e2e` invocation.
type E2EConfig struct {
	URLs   []string // nodes to load; empty when Spawn is set
	APIKey string   // an API key of the app (admin); set by Spawn
	Spawn  *Spawn   // start the nodes as child processes instead

	Contacts     int
	Agents       int
	Bot          string  // "lex" (the node's demo Lex bot) or "webhook" (an instant bot this process serves)
	Rate         float64 // contact messages per second, all contacts together
	Duration     time.Duration
	HandoffShare float64 // fraction of conversations that ask for a person
	// Timeout bounds each awaited reply or notification (default 10 s).
	Timeout  time.Duration
	Baseline bool // load the bare WebSocket server too (on by default in the command)
	// Soak samples the nodes' memory every SampleEvery and judges its
	// trend over the second half of the run (see soakVerdict).
	Soak        bool
	SampleEvery time.Duration
	// PerIP is how many contacts share one loopback source address.
	PerIP int
	JSON  bool
	Out   io.Writer
	Log   io.Writer
}

func (c *E2EConfig) check() error {
	switch {
	case c.Spawn == nil && len(c.URLs) == 0:
		return errors.New("give -url (running nodes) or -spawn sqlite|postgres")
	case c.Spawn != nil && len(c.URLs) > 0:
		return errors.New("-url and -spawn exclude each other")
	case c.Spawn == nil && c.APIKey == "":
		return errors.New("-api-key is required with -url (e.g. the node's SWITCHBOARD_BOOTSTRAP_API_KEY)")
	case c.Contacts < 1 || c.Contacts > 5000:
		return errors.New("-contacts must be between 1 and 5000")
	case c.Agents < 0 || c.Agents > 500:
		return errors.New("-agents must be between 0 and 500")
	case c.Bot != "lex" && c.Bot != "webhook":
		return fmt.Errorf("-bot %q: want lex or webhook", c.Bot)
	case !(c.Rate > 0) || c.Rate > 100000:
		return errors.New("-rate must be above 0 and at most 100000 messages/s")
	case c.Duration < time.Second || c.Duration > MaxE2EDuration:
		return fmt.Errorf("-duration must be between 1s and %s", MaxE2EDuration)
	case !(c.HandoffShare >= 0 && c.HandoffShare <= 1):
		return errors.New("-handoff-share must be between 0 and 1")
	case c.HandoffShare > 0 && c.Agents == 0:
		return errors.New("-handoff-share needs at least one agent (-agents)")
	case c.Soak && c.Duration < time.Minute:
		return errors.New("-soak needs -duration of at least 1m to see a trend")
	}
	if c.Spawn != nil {
		if err := c.Spawn.check(); err != nil {
			return err
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = time.Second
		if c.Soak {
			c.SampleEvery = 10 * time.Second
		}
	}
	if c.PerIP <= 0 {
		c.PerIP = 25 // under the widget-session burst per address
	}
	return nil
}

// ErrE2E is returned when a run completed with errors, or a soak's memory
// grew beyond its bound; the report says which.
var ErrE2E = errors.New("the run had errors or failed its bound: see the report")

// RunE2E runs the baseline and then the product under the same load, and
// writes the report (a table, or JSON with cfg.JSON) to cfg.Out.
func RunE2E(ctx context.Context, cfg E2EConfig) (*E2EReport, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// Per contact: the baseline's two connections and their server ends,
	// then a socket and an HTTP connection; per agent a socket and HTTP.
	need := uint64(4*cfg.Contacts + 2*cfg.Agents + 256)
	if lim, err := raiseFileLimit(); err == nil && lim < need {
		return nil, fmt.Errorf("this run needs about %d open files but the limit is %d: raise it with `ulimit -n`", need, lim)
	}
	rep := &E2EReport{Contacts: cfg.Contacts, Agents: cfg.Agents, Bot: cfg.Bot, Rate: cfg.Rate,
		Duration: cfg.Duration.String(), HandoffShare: cfg.HandoffShare}

	if cfg.Baseline {
		b, err := runE2EBaseline(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep.Baseline = b
	}

	var cl *cluster
	if cfg.Spawn != nil {
		var err error
		if cl, err = cfg.Spawn.start(ctx); err != nil {
			return nil, err
		}
		defer cl.stop()
		cfg.URLs, cfg.APIKey = cl.urls(), cl.apiKey
		rep.Spawned = cfg.Spawn.Store
	}
	for i, u := range cfg.URLs {
		cfg.URLs[i] = strings.TrimRight(strings.TrimSpace(u), "/")
		if p, err := url.Parse(cfg.URLs[i]); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("-url %q: want an http:// or https:// base URL of a node", u)
		}
	}
	rep.Nodes = cfg.URLs

	res, err := runE2ELoad(ctx, cfg, cl)
	if err != nil {
		return nil, err
	}
	rep.Switchboard = res
	rep.ratios()
	if cfg.Soak {
		rep.Soak = soakVerdict(res.Samples, cfg.Duration)
	}
	if cfg.JSON {
		err = writeJSONReport(cfg.Out, rep)
	} else {
		rep.print(cfg.Out)
	}
	if err != nil {
		return rep, err
	}
	if rep.failed() {
		return rep, ErrE2E
	}
	return rep, nil
}

// runE2EBaseline loads the bare server as the contacts' bot turns load a
// node: one subscribed connection and one sending connection per contact,
// the same total rate, send → message frame timed.
func runE2EBaseline(ctx context.Context, cfg E2EConfig) (*BaselineResult, error) {
	url, stop, err := serveBare()
	if err != nil {
		return nil, err
	}
	defer stop()
	d := min(cfg.Duration, maxBaselineDuration)
	rate := max(int(cfg.Rate+0.5), 1)
	cpu0 := processCPU()
	r, err := runLoad(ctx, &bare{url: url, src: sources{perIP: cfg.PerIP}},
		loadParams{clients: cfg.Contacts, conversations: cfg.Contacts, rate: rate, duration: d, drain: 10 * time.Second, log: cfg.Log})
	if err != nil {
		return nil, err
	}
	out := &BaselineResult{
		Duration:   d.String(),
		Sent:       r.sent,
		Acked:      r.acked,
		Throughput: perSec(r.acked, r.window),
		Delivery:   toLatency(r.delivery),
		Faults:     r.faults(),
		CPUSeconds: (processCPU() - cpu0).Seconds(),
	}
	return out, nil
}

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// errorCounts counts errors by kind; safe for concurrent use.
type errorCounts struct {
	mu    sync.Mutex
	n     map[string]int64
	first []string
}

func (e *errorCounts) add(kind string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int64{}
	}
	e.n[kind]++
	if len(e.first) < 8 {
		msg := kind
		if err != nil {
			msg += ": " + err.Error()
		}
		e.first = append(e.first, msg)
	}
}

func (e *errorCounts) snapshot() (map[string]int64, []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.n))
	for k, v := range e.n {
		out[k] = v
	}
	return out, append([]string(nil), e.first...)
}
