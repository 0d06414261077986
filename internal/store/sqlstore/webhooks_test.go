package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func openSQLite(t *testing.T, clock store.Clock) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, url string, clock store.Clock) store.Store {
	s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWebhooksSQLite(t *testing.T) {
	storetest.RunWebhooks(t, openSQLite)
}

func TestWebhooksPostgres(t *testing.T) {
	storetest.RunWebhooks(t, func(t *testing.T, clock store.Clock) store.Store { return openPostgres(t, pgtest.URL(t), clock) })
}

// TestWebhookClaimsTwoNodes runs the claim race on two stores sharing one
// PostgreSQL database, as two processes would.
func TestWebhookClaimsTwoNodes(t *testing.T) {
	url := pgtest.URL(t)
	storetest.ConcurrentWebhookClaims(t, []store.Store{openPostgres(t, url, nil), openPostgres(t, url, nil)})
}
