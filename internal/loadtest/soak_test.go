package loadtest

import (
	"strings"
	"testing"
	"time"
)

// series makes samples of one node every 10 s over d, with resident memory
// and goroutines given as functions of the elapsed seconds.
func series(d time.Duration, rss func(s float64) float64, gor func(s float64) int) []Sample {
	var out []Sample
	for s := 0.0; s <= d.Seconds(); s += 10 {
		out = append(out, Sample{Seconds: s, Node: 1, RSSMiB: rss(s), Goroutines: gor(s)})
	}
	return out
}

func TestSoakVerdict(t *testing.T) {
	d := 10 * time.Minute
	steady := func(float64) int { return 60 }
	cases := []struct {
		name    string
		samples []Sample
		ok      bool
		reason  string
	}{
		{"flat", series(d, func(float64) float64 { return 80 }, steady), true, ""},
		// Warming up in the first half is not a leak.
		{"settles in the first half", series(d, func(s float64) float64 { return 40 + min(s, 240)/6 }, steady), true, ""},
		{"noisy but flat", series(d, func(s float64) float64 { return 80 + float64(int(s)%30)/5 }, steady), true, ""},
		{"climbs", series(d, func(s float64) float64 { return 60 + s/20 }, steady), false, "trends up"},
		{"goroutines leak", series(d, func(float64) float64 { return 80 }, func(s float64) int { return 60 + int(s/5) }), false, "goroutines grew"},
		{"too few samples", series(30*time.Second, func(float64) float64 { return 80 }, steady), false, "too few samples"},
		{"no samples", nil, false, ""},
	}
	for _, c := range cases {
		dd := d
		if c.name == "too few samples" {
			dd = 30 * time.Second
		}
		v := soakVerdict(c.samples, dd)
		if v.OK != c.ok {
			t.Errorf("%s: ok = %v, want %v (%+v)", c.name, v.OK, c.ok, v.Nodes)
		}
		if c.reason != "" && (len(v.Nodes) == 0 || !strings.Contains(v.Nodes[0].Reason, c.reason)) {
			t.Errorf("%s: reason %+v, want it to mention %q", c.name, v.Nodes, c.reason)
		}
	}
}

// TestSoakJudgesEveryNode: one node's leak fails the soak even when the
// other is flat.
func TestSoakJudgesEveryNode(t *testing.T) {
	d := 10 * time.Minute
	flat := series(d, func(float64) float64 { return 80 }, func(float64) int { return 50 })
	leak := series(d, func(s float64) float64 { return 60 + s/10 }, func(float64) int { return 50 })
	for i := range leak {
		leak[i].Node = 2
	}
	v := soakVerdict(append(flat, leak...), d)
	if v.OK || len(v.Nodes) != 2 || !v.Nodes[0].OK || v.Nodes[1].OK {
		t.Fatalf("verdict %+v", v)
	}
}

func TestE2EConfigCheck(t *testing.T) {
	ok := E2EConfig{URLs: []string{"http://127.0.0.1:1"}, APIKey: "k", Contacts: 2, Agents: 1, Bot: "lex", Rate: 1, Duration: time.Second, HandoffShare: 0.5}
	if err := ok.check(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	bad := map[string]func(c *E2EConfig){
		"no target":         func(c *E2EConfig) { c.URLs = nil },
		"both targets":      func(c *E2EConfig) { c.Spawn = &Spawn{Store: "sqlite", Nodes: 1, Command: []string{"x"}} },
		"no key":            func(c *E2EConfig) { c.APIKey = "" },
		"no contacts":       func(c *E2EConfig) { c.Contacts = 0 },
		"unknown bot":       func(c *E2EConfig) { c.Bot = "rasa" },
		"NaN rate":          func(c *E2EConfig) { c.Rate = zero / zero },
		"too long":          func(c *E2EConfig) { c.Duration = MaxE2EDuration + time.Second },
		"share over 1":      func(c *E2EConfig) { c.HandoffShare = 1.01 },
		"handoff no agents": func(c *E2EConfig) { c.Agents = 0 },
		"short soak":        func(c *E2EConfig) { c.Soak = true },
		"two sqlite nodes": func(c *E2EConfig) {
			c.URLs, c.APIKey = nil, ""
			c.Spawn = &Spawn{Store: "sqlite", Nodes: 2, Command: []string{"x"}}
		},
		"postgres without NATS": func(c *E2EConfig) {
			c.URLs, c.APIKey = nil, ""
			c.Spawn = &Spawn{Store: "postgres", Nodes: 2, DatabaseURL: "postgres://x/y", Command: []string{"x"}}
		},
	}
	for name, f := range bad {
		c := ok
		f(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

var zero float64
