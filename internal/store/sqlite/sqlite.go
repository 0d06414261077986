// Package sqlite opens Switchboard's embedded default store: one SQLite file
// (modernc.org/sqlite, pure Go) in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
)

//go:embed *.sql
var migrations embed.FS

// Options tunes Open; the zero value is the production setting.
type Options struct {
	Clock store.Clock
}

// Open opens (creating if needed) the database file at path, applies pending
// migrations and starts the group committer. Close the store to stop it.
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	wdb, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}

	// Reads use their own pool: in WAL mode readers see the last commit and
	// never block the writer or each other. query_only guards against a
	// write slipping onto a reader connection and bypassing the writer queue.
	rq := commonParams()
	rq.Set("_query_only", "1")
	rdb, err := openDB("file:" + path + "?" + rq.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	rdb.SetConnMaxLifetime(0)

	if err := sqlstore.Migrate(ctx, wdb, sqlstore.SQLite, migrations); err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s, err := sqlstore.New(sqlstore.Config{
		Flavor:            sqlstore.SQLite,
		DB:                rdb,
		WriteDB:           wdb,
		IsUniqueViolation: isUniqueViolation,
		Clock:             opts.Clock,
		Committers:        1, // one writer: a second committer would only queue
	})
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, err
	}
	return s, nil
}

// busyTimeout is how long a connection waits for another's lock, another
// process's included, before it reports the database as busy.
const busyTimeout = 10 * time.Second

func commonParams() url.Values {
	// synchronous=FULL: in WAL mode NORMAL survives a process crash but can
	// lose the last commits on power loss; an acknowledged message must
	// survive both. Group commit is what pays for the extra fsync.
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	return q
}

// openWriter opens the one-connection pool that performs every write.
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	// Writes go through a pool of exactly one connection. SQLite allows one
	// writer at a time anyway; with more writer connections they would spin
	// on SQLITE_BUSY, whereas database/sql queues them fairly in Go. Its
	// transactions begin IMMEDIATE, taking the write lock up front, so a
	// read-then-write transaction can never fail to upgrade halfway.
	wq := commonParams()
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	wdb, err := openDB("file:" + path + "?" + wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := pingUntilFree(ctx, wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return wdb, nil
}

// openDB opens a pool whose connections keep their statements prepared:
// the driver otherwise compiles the SQL of every query, which costs more CPU
// than running most of the store's queries.
func openDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(sqlstore.CacheStatements(c, sqlstore.DefaultStatementCache)), nil
}

// pingUntilFree opens the first connection. When another process is
// switching a new file to WAL at that moment, SQLite answers SQLITE_BUSY at
// once rather than through the busy timeout, so that one error is retried,
// for as long as the busy timeout would have waited.
func pingUntilFree(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
