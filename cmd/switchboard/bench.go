package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/internal/loadtest"
)

const benchUsage = `usage: switchboard bench ws [flags]

Puts a realtime load on running Switchboard nodes and reports end-to-end
delivery latency beside a bare WebSocket fan-out server measured in the same
run, plus the server's resident memory per idle connection (-idle).
Each connection is a file descriptor on both ends: give this process and
the server enough (ulimit -n). See docs/benchmarks.md.

flags:
`

// bench runs a load generator against a running node (or, for `bench
// node`, is one); the subcommands are in main.go's command table.
func bench(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return benchCommand().exec(args, getenv, stdout, stderr)
}

// benchWS is `switchboard bench ws`.
func benchWS(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench ws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	urls := fs.String("url", "http://127.0.0.1:8080", "base URL of a node; several comma-separated: subscribers spread over them, senders on the first")
	apiKey := fs.String("api-key", "", "an API key of the app to load (e.g. SWITCHBOARD_BOOTSTRAP_API_KEY)")
	clients := fs.Int("clients", 1000, "subscribed WebSocket clients; 0 skips the load")
	rate := fs.Int("rate", 500, "messages per second, over all conversations")
	duration := fs.Duration("duration", 20*time.Second, "how long to send (at most "+loadtest.MaxDuration.String()+")")
	conversations := fs.Int("conversations", 100, "conversations; subscribers are spread evenly, one sender connection each")
	idle := fs.Int("idle", 0, "idle subscribed connections for the memory-per-connection figure; 0 skips it")
	baseline := fs.Bool("baseline", true, "measure a bare in-process WebSocket fan-out server first, with the same load")
	perIP := fs.Int("per-ip", 200, "connections per loopback source address (127.1.x.y) when the nodes are on loopback, to stay under a node's per-address limit; 0 uses one address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench ws: unexpected argument %q", fs.Arg(0))
	}
	if *apiKey == "" {
		*apiKey = getenv("SWITCHBOARD_BOOTSTRAP_API_KEY")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return loadtest.Run(ctx, loadtest.Config{
		URLs:          strings.Split(*urls, ","),
		APIKey:        *apiKey,
		Clients:       *clients,
		Rate:          *rate,
		Duration:      *duration,
		Conversations: *conversations,
		Idle:          *idle,
		Baseline:      *baseline,
		PerIP:         *perIP,
		Out:           stdout,
		Log:           stderr,
	})
}

// benchLex is `switchboard bench lex`: RecognizeText load on a running Lex
// runtime, beside a bare handler measured in the same run.
func benchLex(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadtest.ParseLex(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Out = stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = loadtest.RunLex(ctx, cfg)
	return err
}
