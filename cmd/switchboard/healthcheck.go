package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/internal/config"
)

// healthcheck asks the node listening on SWITCHBOARD_ADDR (or -addr) whether
// it is up, and fails unless it answers 200. It exists so that a container
// image without a shell or curl can still declare a HEALTHCHECK.
func healthcheck(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("switchboard healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	def := getenv("SWITCHBOARD_ADDR")
	if def == "" {
		def = config.DefaultAddr
	}
	addr := fs.String("addr", def, "the node's listen address (SWITCHBOARD_ADDR)")
	ready := fs.Bool("ready", false, "check /readyz (the store answers) instead of /healthz (the process answers)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("healthcheck: address %q must be host:port", *addr)
	}
	// A node listening on every interface is asked on loopback.
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	target := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
