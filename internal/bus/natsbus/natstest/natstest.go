// Package natstest finds the NATS server tests run against, following the
// project's rule for real services: SWITCHBOARD_TEST_NATS when set, else the
// default local address; skip with a reason when it does not answer, and
// fail instead when SWITCHBOARD_REQUIRE_SERVICES=1.
package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

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
