// Command switchboard runs the Switchboard support-chat server, and the
// tools around it: a health check, a local Lex V2 runtime and the load
// generators. `switchboard help` lists them all, from the command table in
// this file.
//
// Every flag has a SWITCHBOARD_* environment variable; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// runFunc runs one command with the arguments after its name.
type runFunc func(args []string, getenv func(string) string, stdout, stderr io.Writer) error

// command is one entry of the command table. The help is made from the
// table and dispatch goes through it, so a command cannot exist without
// being listed.
type command struct {
	name    string
	args    string // what follows the name in the help, e.g. "[flags]"
	summary string
	run     runFunc
	// sub are the subcommands of a command that is only a group of them
	// (bench ws, bench lex…); run is then unused.
	sub []command
}

// commands is the table of `switchboard COMMAND`. It is a function, not a
// variable, because help refers back to it.
func commands() []command {
	return []command{
		{name: "serve", args: "[flags]", summary: "serve the API and the web apps (the default command)", run: serve},
		{name: "version", summary: "print the version", run: func(_ []string, _ func(string) string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "switchboard", version)
			return err
		}},
		{name: "healthcheck", args: "[flags]", summary: "exit 0 if the local node answers /healthz (-ready: /readyz)", run: func(args []string, getenv func(string) string, stdout, _ io.Writer) error {
			return healthcheck(args, getenv, stdout)
		}},
		{name: "lex-local", args: "[flags] [PATH]...", summary: "serve Lex V2 bots locally (the demo bot by default)", run: func(args []string, getenv func(string) string, _, stderr io.Writer) error {
			return lexLocal(args, getenv, stderr)
		}},
		benchCommand(),
		{name: "help", summary: "print this list", run: func(_ []string, _ func(string) string, stdout, _ io.Writer) error {
			return writeHelp(stdout, commands())
		}},
	}
}

// benchCommand is `switchboard bench`, the load generators.
func benchCommand() command {
	return command{name: "bench", sub: []command{
		{name: "ws", args: "[flags]", summary: "load a running node's realtime gateway", run: benchWS},
		{name: "lex", args: "[flags]", summary: "load a running Lex runtime with RecognizeText", run: benchLex},
		{name: "e2e", args: "[flags]", summary: "measure end-to-end chat latency on running or spawned nodes", run: func(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
			return benchE2E(args, false, getenv, stdout, stderr)
		}},
		{name: "soak", args: "[flags]", summary: "bench e2e for 10 minutes by default, failing on errors or on memory or goroutine growth", run: func(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
			return benchE2E(args, true, getenv, stdout, stderr)
		}},
		{name: "node", args: "[flags]", summary: "serve, with a CPU profile of the whole run (started by bench e2e -spawn)", run: benchNode},
	}}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "serve"
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		// Asked of the program rather than of serve, the default command.
		name = "help"
	case len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-':
		name, args = args[0], args[1:]
	}
	c, ok := findCommand(commands(), name)
	if !ok {
		return fmt.Errorf("unknown command %q (try: switchboard help)", name)
	}
	return c.exec(args, getenv, stdout, stderr)
}

// exec runs c, or for a group, the subcommand args name.
func (c command) exec(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if c.sub == nil {
		return c.run(args, getenv, stdout, stderr)
	}
	if len(args) > 0 {
		if s, ok := findCommand(c.sub, args[0]); ok {
			return s.run(args[1:], getenv, stdout, stderr)
		}
	}
	if err := writeHelp(stderr, []command{c}); err != nil {
		return err
	}
	names := make([]string, len(c.sub))
	for i, s := range c.sub {
		names[i] = s.name
	}
	return fmt.Errorf("%s: name one of %s", c.name, strings.Join(names, ", "))
}

func findCommand(cs []command, name string) (command, bool) {
	for _, c := range cs {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// writeHelp lists cs, a line per command and per subcommand.
func writeHelp(w io.Writer, cs []command) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "usage: switchboard [COMMAND] [flags]")
	fmt.Fprintln(tw)
	var line func(prefix string, c command)
	line = func(prefix string, c command) {
		if c.sub != nil {
			for _, s := range c.sub {
				line(prefix+c.name+" ", s)
			}
			return
		}
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(prefix+c.name+" "+c.args), c.summary)
	}
	for _, c := range cs {
		line("", c)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Add -h after a command for its flags. Settings are SWITCHBOARD_* environment")
	fmt.Fprintln(tw, "variables, listed in the README; a flag wins over its variable.")
	return tw.Flush()
}

func serve(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Out: stdout})
	if err != nil {
		return err
	}
	if _, err := srv.Listen(); err != nil {
		return errors.Join(err, srv.Close())
	}
	return srv.Serve(ctx)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
