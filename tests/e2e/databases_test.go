package e2e

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// database is one storage backend a node can run on.
type database struct {
	name string
	// url returns SWITCHBOARD_DATABASE_URL for a fresh database; empty
	// means the embedded SQLite default.
	url func(t *testing.T) string
}

// databases lists the backends every whole-system test runs on. PostgreSQL
// follows the project's rule: skipped with a reason when unreachable, a
// failure when SWITCHBOARD_REQUIRE_SERVICES=1.
func databases(*testing.T) []database {
	return []database{
		{name: "sqlite", url: func(*testing.T) string { return "" }},
		{name: "postgres", url: func(t *testing.T) string { return pgtest.URL(t) }},
	}
}
