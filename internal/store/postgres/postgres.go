// Package postgres opens Switchboard's scale-out store: PostgreSQL through
// pgx, shared by every node of a cluster.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
)

//go:embed *.sql
var migrations embed.FS

// Options tunes Open; the zero value is the production setting.
type Options struct {
	Clock store.Clock
	// MaxConns bounds the connection pool; 0 means 16.
	MaxConns int
}

// Open connects to the database at url (postgres://…), applies pending
// migrations (serialised across nodes by an advisory lock) and starts the
// group committer. Close the store to stop it.
func Open(ctx context.Context, url string, opts Options) (*sqlstore.Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	conns := opts.MaxConns
	if conns <= 0 {
		conns = 16
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.Postgres, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s, err := sqlstore.New(sqlstore.Config{
		Flavor:            sqlstore.Postgres,
		DB:                db,
		IsUniqueViolation: isUniqueViolation,
		Clock:             opts.Clock,
		// Two committers overlap one batch's commit (the fsync wait) with the
		// next batch's statements. Row locks keep per-conversation order.
		Committers: 2,
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
