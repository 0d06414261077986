// Package natstest finds the NATS server tests run against, following the
// project's rule for real services: SWITCHBOARD_TEST_NATS when set, else the
// default local address; skip with a reason when it does not answer, and
// fail instead when SWITCHBOARD_REQUIRE_SERVICES=1.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultURL is tried when SWITCHBOARD_TEST_NATS is unset.
const DefaultURL = "nats://127.0.0.1:4222"

// URL returns the URL of a NATS server that answered just now.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SWITCHBOARD_TEST_NATS")
	if u == "" {
		u = DefaultURL
	}
	// A real handshake rather than a TCP dial: something else listening on
	// the port should not pass for NATS.
	nc, err := nats.Connect(u, nats.Timeout(3*time.Second), nats.Name("switchboard natstest probe"))
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_SERVICES") == "1" {
			t.Fatalf("nats unreachable and SWITCHBOARD_REQUIRE_SERVICES=1: %v", err)
		}
		t.Skipf("nats unreachable (set SWITCHBOARD_TEST_NATS): %v", err)
	}
	nc.Close()
	return u
}
