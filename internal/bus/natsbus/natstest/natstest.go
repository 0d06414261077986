// Package natstest finds the NATS server tests run against, following the
// project's rule for real services: SWITCHBOARD_TEST_NATS when set, else the
// default local address; skip with a reason when it does not answer, and
// fail instead when SWITCHBOARD_REQUIRE_SERVICES=1.
package natstest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-chat/switchboard/internal/bus/natsbus"
	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// DefaultURL is tried when SWITCHBOARD_TEST_NATS is unset.
const DefaultURL = "nats://127.0.0.1:4222"

// URL returns the URL of a NATS server that answered just now.
func URL(t testing.TB) string {
	t.Helper()
	u := testsvc.Addr("SWITCHBOARD_TEST_NATS", DefaultURL)
	// A real handshake rather than a TCP dial: something else listening on
	// the port should not pass for NATS.
	nc, err := nats.Connect(u, nats.Timeout(3*time.Second), nats.Name("switchboard natstest probe"))
	if err != nil {
		testsvc.Unavailable(t, "nats", "SWITCHBOARD_TEST_NATS", testsvc.RequireServices, err)
	}
	nc.Close()
	return u
}

// Bus connects a bus for one node to the NATS server at URL(t), closed when
// the test ends. Buses opened this way for different nodes reach each other
// through the server, as nodes in production do.
func Bus(t testing.TB, nodeID string) *natsbus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := natsbus.Open(ctx, URL(t), nodeID, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("natstest: open bus for %s: %v", nodeID, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
