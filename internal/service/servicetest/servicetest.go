// Package servicetest builds a real Service for other packages' tests: a
// fresh SQLite store and file storage in the test's temporary directory,
// cheap password hashing, and the default app bootstrapped with a known
// owner and API key. Tests of the HTTP API, the gateway and the service
// itself all start from here, so they exercise the same wiring.
package servicetest

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/service"
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
	// DBPath and FilesDir are where the database and uploads live, for
	// tests that look at them directly (to prove a refused request changed
	// nothing).
	DBPath, FilesDir string
}

// New builds an Env. adjust, when not nil, may change the options before
// the service is made (a clock, a bus, an upload limit).
func New(t testing.TB, adjust func(*service.Options)) *Env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "switchboard.db")
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	filesDir := filepath.Join(dir, "files")
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
	if _, err := svc.EnsureDefaults(ctx, service.Bootstrap{AdminEmail: OwnerEmail, AdminPassword: OwnerPassword, APIKey: APIKey}); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return &Env{Service: svc, Store: st, Keys: keys, DBPath: dbPath, FilesDir: filesDir}
}
