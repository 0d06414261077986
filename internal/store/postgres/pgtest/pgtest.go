// Package pgtest gives tests a private PostgreSQL schema on the development
// database, following the project's rule for real services: use
// SWITCHBOARD_TEST_POSTGRES or the default local address when it answers,
// skip with a reason when it does not, and fail instead of skipping when
// SWITCHBOARD_REQUIRE_SERVICES=1.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// DefaultURL is tried when SWITCHBOARD_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns a connection URL whose search_path is a fresh schema, dropped
// when the test ends, so tests can run in parallel without seeing each other.
func URL(t testing.TB) string {
	t.Helper()
	base := testsvc.Addr("SWITCHBOARD_TEST_POSTGRES", DefaultURL)
	db, err := openDB(base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err != nil {
			db.Close()
		}
	}
	if err != nil {
		testsvc.Unavailable(t, "postgres", "SWITCHBOARD_TEST_POSTGRES", testsvc.RequireServices, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openDB(u string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = 3 * time.Second
	return stdlib.OpenDB(*cfg), nil
}
