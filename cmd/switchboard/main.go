// Command switchboard runs the Switchboard support-chat server.
//
//	switchboard [serve] [flags]   serve the API and the web apps (the default)
//	switchboard version           print the version
//	switchboard healthcheck       exit 0 if the local node answers /healthz
//	switchboard bench ws [flags]  load a running node's realtime gateway
//	switchboard bench lex [flags] load a running Lex runtime with RecognizeText
//	switchboard lex-local [flags] serve Lex V2 bots locally (the demo bot by default)
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
	"syscall"

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

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, getenv, stdout, stderr)
	case "bench":
		return bench(args, getenv, stdout, stderr)
	case "lex-local":
		return lexLocal(args, getenv, stderr)
	case "version":
		fmt.Fprintln(stdout, "switchboard", version)
		return nil
	case "healthcheck":
		return healthcheck(args, getenv, stdout)
	case "help":
		fmt.Fprintln(stdout, "usage: switchboard [serve|bench ws|bench lex|lex-local|healthcheck|version] [flags]; settings: see README (SWITCHBOARD_* variables); switchboard lex-local -h for the local Lex runtime")
		return nil
	default:
		return fmt.Errorf("unknown command %q (try: serve, bench, lex-local, healthcheck, version)", cmd)
	}
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
