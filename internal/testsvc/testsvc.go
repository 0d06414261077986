// Package testsvc holds the project's one rule for tests that need a real
// service (PostgreSQL, NATS, a browser): use the address from the service's
// environment variable or its default, skip with a one-line reason when it
// does not answer, and fail instead of skipping when CI demands it with
// SWITCHBOARD_REQUIRE_SERVICES=1 (SWITCHBOARD_REQUIRE_BROWSER=1 for the
// browser), so that nothing silently skips in CI.
//
// Tests that break a service on purpose (crash PostgreSQL, stop NATS) run
// a private server of their own with StartPostgres or StartNATS, never the
// shared one other packages are using at the same time.
package testsvc

import (
	"os"
	"testing"
)

// Addr returns the value of envVar, or def when it is unset.
func Addr(envVar, def string) string {
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	return def
}

// Unavailable ends the test because the service what (configured through
// envVar) did not answer: a skip normally, a failure when requireVar is "1".
func Unavailable(t testing.TB, what, envVar, requireVar string, err error) {
	t.Helper()
	if os.Getenv(requireVar) == "1" {
		t.Fatalf("%s unreachable and %s=1: %v", what, requireVar, err)
	}
	t.Skipf("%s unreachable (set %s): %v", what, envVar, err)
}

// RequireServices is the variable that turns skips for PostgreSQL and NATS
// into failures.
const RequireServices = "SWITCHBOARD_REQUIRE_SERVICES"
