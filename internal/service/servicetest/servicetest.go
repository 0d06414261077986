// Package servicetest builds a real Service for other packages' tests: a
// fresh SQLite store and file storage in the test's temporary directory,
// cheap password hashing, and the default app bootstrapped with a known
// owner and API key. Tests of the HTTP API, the gateway and the service
// itself all start from here, so they exercise the same wiring. Nodes builds
// several services on one PostgreSQL database, for tests and benchmarks of
// an installation of more than one node.
package servicetest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
	"github.com/switchboard-chat/switchboard/internal/upload"
)

// The default app's bootstrap credentials.
const (
	OwnerEmail    = "owner@example.com"
	OwnerPassword = "owner-password"
	APIKey        = "a-bootstrap-key-of-some-length-0001"
)

// Env is a bootstrapped service and what it stands on.
type Env struct {
	Service *service.Service
	Store   *sqlstore.Store
	Keys    *auth.Keyring
	// DBPath and FilesDir are where the database (SQLite; empty on
	// PostgreSQL) and uploads live, for tests that look at them directly
	// (to prove a refused request changed nothing).
	DBPath, FilesDir string
}

// New builds an Env. adjust, when not nil, may change the options before
// the service is made (a clock, a bus, an upload limit).
func New(t testing.TB, adjust func(*service.Options)) *Env {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "switchboard.db")
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := build(t, st, filepath.Join(dir, "files"), adjust)
	e.DBPath = dbPath
	return e
}

// Nodes builds one Env per bus, each standing for a node of one
// installation: its own store (its own connection pool) on the PostgreSQL
// database at url, its own file storage and the given bus, and the same
// secret key as the others. Every node bootstraps the default app, as each
// node does at start.
func Nodes(t testing.TB, url string, buses ...bus.Bus) []*Env {
	t.Helper()
	var envs []*Env
	for i, b := range buses {
		st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatalf("opening store of node %d: %v", i, err)
		}
		t.Cleanup(func() { st.Close() })
		envs = append(envs, build(t, st, filepath.Join(t.TempDir(), "files"), func(o *service.Options) {
			o.Bus, o.NodeID = b, fmt.Sprintf("node-%d", i)
		}))
	}
	return envs
}

// build makes the service over st and bootstraps the default app.
func build(t testing.TB, st *sqlstore.Store, filesDir string, adjust func(*service.Options)) *Env {
	t.Helper()
	disk, err := upload.NewDisk(filesDir)
	if err != nil {
		t.Fatalf("opening file storage: %v", err)
	}
	t.Cleanup(func() { disk.Close() })
	keys, err := auth.NewKeyring(bytes.Repeat([]byte{7}, auth.MasterKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	o := service.Options{Store: st, Blobs: disk, Keys: keys, Passwords: auth.TestParams}
	if adjust != nil {
		adjust(&o)
	}
	svc := service.New(o)
	if _, err := svc.EnsureDefaults(context.Background(), service.Bootstrap{AdminEmail: OwnerEmail, AdminPassword: OwnerPassword, APIKey: APIKey}); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return &Env{Service: svc, Store: st, Keys: keys, FilesDir: filesDir}
}
