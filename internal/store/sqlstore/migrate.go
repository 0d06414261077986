package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// migrationLockKey is an arbitrary constant shared by every node, so that two
// nodes starting at once apply migrations one after the other.
const migrationLockKey = 0x5377_6244 // "SwbD"

// ErrSchemaTooNew is returned by Migrate when the database records a
// migration this build does not have: a newer release has upgraded it, and
// this older node would misread what that release writes.
var ErrSchemaTooNew = errors.New("the database schema is newer than this build")

// Migrate applies, in name order, every *.sql file of fsys not yet recorded
// in schema_migrations, all in one transaction: a failed migration leaves the
// schema as it was, and running it again at every start is a no-op. Nodes
// starting at once take turns: on PostgreSQL through an advisory lock held
// until the transaction ends, on SQLite through the write lock that its
// immediate transactions take at BEGIN (the caller's connection must begin
// them so). Migrations are forward-only; a database already migrated past
// the last file in fsys is refused with ErrSchemaTooNew.
func Migrate(ctx context.Context, db *sql.DB, flavor Flavor, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if flavor == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: read versions: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: read versions: %w", err)
	}
	if err := checkNotNewer(names, applied); err != nil {
		return err
	}
	insert := "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"
	if flavor == Postgres {
		insert = "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)"
	}
	for _, name := range names {
		version := strings.TrimSuffix(name, ".sql")
		if applied[version] {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate: %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, insert, version, nowMicros()); err != nil {
			return fmt.Errorf("migrate: record %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// checkNotNewer refuses a database that has a migration later than every one
// this build knows. Names sort by their zero-padded number, so a plain string
// comparison orders them.
func checkNotNewer(names []string, applied map[string]bool) error {
	latest := ""
	if len(names) > 0 {
		latest = strings.TrimSuffix(names[len(names)-1], ".sql")
	}
	newest := ""
	for v := range applied {
		if v > latest && v > newest {
			newest = v
		}
	}
	if newest != "" {
		return fmt.Errorf("migrate: %w: it has migration %s, this build knows up to %s; run a release that has it, or restore a backup taken before the upgrade", ErrSchemaTooNew, newest, latest)
	}
	return nil
}
