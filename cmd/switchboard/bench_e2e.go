package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/internal/loadtest"
)

const benchE2EUsage = `usage: switchboard bench e2e [flags]
       switchboard bench soak [flags]   (e2e with -soak, 10 minutes by default)

Plays contacts in the widget (widget session, conversation, realtime
socket) talking to a bot, a share of them asking for a person, and agents
signed in on the realtime socket who are notified, take over and reply.
Reports throughput, the latency of contact message → bot reply, handoff →
agent notified and agent reply → contact, errors by kind and the nodes'
resource use, beside a bare WebSocket server loaded the same way in the
same run. Runs against running nodes (-url) or starts them (-spawn).
See docs/benchmarks.md.

flags:
`

// benchE2E is `switchboard bench e2e` (and `bench soak`, the same with
// -soak on and a 10-minute default).
func benchE2E(args []string, soak bool, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "bench e2e"
	defDuration := 20 * time.Second
	if soak {
		name, defDuration = "bench soak", 10*time.Minute
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchE2EUsage)
		fs.PrintDefaults()
	}
	urls := fs.String("url", "", "base URL of a running node; several comma-separated: contacts and agents spread over them round-robin")
	apiKey := fs.String("api-key", "", "with -url: an admin API key of the app to load (default SWITCHBOARD_BOOTSTRAP_API_KEY)")
	spawn := fs.String("spawn", "", "start the nodes as child processes of this binary: sqlite (one node) or postgres (-nodes nodes)")
	nodes := fs.Int("nodes", 2, "with -spawn postgres: how many nodes")
	dbURL := fs.String("database-url", getenv("SWITCHBOARD_DATABASE_URL"), "with -spawn postgres: an empty database for this run (default SWITCHBOARD_DATABASE_URL)")
	natsURL := fs.String("nats-url", getenv("SWITCHBOARD_NATS_URL"), "with -spawn postgres: the NATS server the nodes share (default SWITCHBOARD_NATS_URL)")
	profDir := fs.String("cpuprofile-dir", "", "with -spawn: each node writes a CPU profile of its whole life to DIR/nodeN.pprof")
	contacts := fs.Int("contacts", 20, "simulated widget contacts, one conversation each")
	agents := fs.Int("agents", 4, "simulated agents on the realtime socket")
	bot := fs.String("bot", "lex", "lex (the node's demo bot on the local Lex runtime) or webhook (an instant webhook bot this process serves)")
	rate := fs.Float64("rate", 20, "contact messages per second, all contacts together")
	duration := fs.Duration("duration", defDuration, "how long to load (at most "+loadtest.MaxE2EDuration.String()+")")
	share := fs.Float64("handoff-share", 0.2, "fraction of conversations that ask for a person after their first bot reply")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each reply or notification before counting an error")
	baseline := fs.Bool("baseline", true, "load the bare WebSocket server first, with the same contacts and rate")
	sample := fs.Duration("sample", 0, "how often to sample the nodes' memory (default 1s, 10s with -soak)")
	soakFlag := fs.Bool("soak", soak, "judge memory and goroutine growth over the second half of the run, and print the samples")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	cfg := loadtest.E2EConfig{
		Contacts: *contacts, Agents: *agents, Bot: *bot, Rate: *rate, Duration: *duration,
		HandoffShare: *share, Timeout: *timeout, Baseline: *baseline, Soak: *soakFlag,
		SampleEvery: *sample, JSON: *asJSON, Out: stdout, Log: stderr,
	}
	if *spawn != "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		n := *nodes
		if *spawn == "sqlite" {
			n = 1
		}
		cfg.Spawn = &loadtest.Spawn{Store: *spawn, Nodes: n, DatabaseURL: *dbURL, NATSURL: *natsURL,
			Command: []string{exe, "bench", "node"}, CPUProfileDir: *profDir, Log: stderr}
	} else if *urls != "" {
		cfg.URLs = strings.Split(*urls, ",")
		cfg.APIKey = *apiKey
		if cfg.APIKey == "" {
			cfg.APIKey = getenv("SWITCHBOARD_BOOTSTRAP_API_KEY")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := loadtest.RunE2E(ctx, cfg)
	return err
}

// benchNode is `switchboard bench node`: the node `bench e2e -spawn`
// starts, which is `serve` with an optional CPU profile of its whole life
// (loadtest.CPUProfileEnv), written when it shuts down.
func benchNode(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	path := getenv(loadtest.CPUProfileEnv)
	if path == "" {
		return serve(args, getenv, stdout, stderr)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	err = serve(args, getenv, stdout, stderr)
	pprof.StopCPUProfile()
	return errors.Join(err, f.Close())
}
