package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/server"
)

// The healthcheck subcommand, as the container image's HEALTHCHECK runs it,
// passes against a running node (found through SWITCHBOARD_ADDR, even when
// that is every interface) and fails when nothing answers or the answer is
// not 200.
func TestHealthcheck(t *testing.T) {
	vars := map[string]string{"SWITCHBOARD_DATA_DIR": t.TempDir(), "SWITCHBOARD_DEMO": "false", "SWITCHBOARD_ADDR": "127.0.0.1:0"}
	cfg, err := config.Load(nil, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: quiet, Out: io.Discard, Passwords: auth.TestParams})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	_, port, _ := net.SplitHostPort(addr.String())

	for _, a := range []string{addr.String(), "0.0.0.0:" + port} {
		var out strings.Builder
		if err := run([]string{"healthcheck"}, env(map[string]string{"SWITCHBOARD_ADDR": a}), &out, io.Discard); err != nil || out.String() != "ok\n" {
			t.Errorf("healthcheck with SWITCHBOARD_ADDR=%s: %v %q", a, err, out.String())
		}
	}
	if err := run([]string{"healthcheck", "-ready", "-addr", addr.String()}, env(nil), io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck -ready: %v", err)
	}

	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	if err := run([]string{"healthcheck", "-addr", failing.Listener.Addr().String()}, env(nil), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("against a 503: %v", err)
	}
	// A port nothing listens on: take one, then free it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := run([]string{"healthcheck", "-addr", closed, "-timeout", "2s"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck passed with nothing listening")
	}
	if err := run([]string{"healthcheck", "-addr", "nonsense"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck accepted a malformed address")
	}
}
