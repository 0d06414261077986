// Package sqlstore implements store.Store once, over database/sql, for both
// SQLite and PostgreSQL. The two databases differ in a handful of places
// (placeholders, row locks, how write transactions are serialised, bulk SQL
// for message batches, unique-violation errors); those live in Flavor-specific
// code here, so every query and rule is written and tested once.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Flavor names the database a Store talks to.
type Flavor int

const (
	SQLite Flavor = iota + 1
	Postgres
)

// Config is what a driver package hands to New.
type Config struct {
	Flavor Flavor
	// DB serves reads, and writes too when WriteDB is nil.
	DB *sql.DB
	// WriteDB, when set, runs every write transaction. SQLite uses a
	// one-connection pool here: SQLite has a single writer anyway, and
	// queueing writers in Go is cheaper and fairer than busy-waiting on the
	// file lock.
	WriteDB *sql.DB
	// IsUniqueViolation recognises the driver's unique-constraint error.
	IsUniqueViolation func(error) bool
	Clock             store.Clock
	// Committers is the number of group-commit goroutines; 0 means 1. More
	// than one only helps where transactions can overlap (PostgreSQL).
	Committers int
	// MaxBatch bounds how many appends share one transaction; 0 means 512.
	MaxBatch int
}

// Store is the database/sql implementation of store.Store.
type Store struct {
	flavor   Flavor
	db       *sql.DB
	wdb      *sql.DB
	isUnique func(error) bool
	clock    store.Clock
	batch    batchSQL
	appends  *batcher[*appendReq]

	// Statements prepared once, for the hottest queries of fixed text.
	stmtMu sync.Mutex
	claim  *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// New wraps open database handles. The schema must already be migrated (see
// Migrate). Close closes the handles.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.IsUniqueViolation == nil {
		return nil, errors.New("sqlstore: DB and IsUniqueViolation are required")
	}
	s := &Store{
		flavor:   cfg.Flavor,
		db:       cfg.DB,
		wdb:      cfg.WriteDB,
		isUnique: cfg.IsUniqueViolation,
		clock:    cfg.Clock,
	}
	if s.wdb == nil {
		s.wdb = s.db
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	switch cfg.Flavor {
	case SQLite:
		s.batch = sqliteBatch{s}
	case Postgres:
		s.batch = pgBatch{s}
	default:
		return nil, fmt.Errorf("sqlstore: unknown flavor %d", cfg.Flavor)
	}
	maxBatch := cfg.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 512
	}
	s.appends = newBatcher(max(cfg.Committers, 1), maxBatch, s.applyAppends)
	return s, nil
}

// Close stops the group committer (finishing the batch in flight), then
// closes the database handles. Appends after Close fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.appends.close()
		s.stmtMu.Lock()
		if s.claim != nil {
			s.closeErr = s.claim.Close()
		}
		s.stmtMu.Unlock()
		s.closeErr = errors.Join(s.closeErr, s.db.Close())
		if s.wdb != s.db {
			s.closeErr = errors.Join(s.closeErr, s.wdb.Close())
		}
	})
	return s.closeErr
}

// Ping checks that the database answers and that migrations ran.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if n == 0 {
		return errors.New("ping: no migrations applied")
	}
	return nil
}

// now is the store's clock at the precision the database keeps, so a value
// returned from Create compares equal to the same row read back.
func (s *Store) now() time.Time {
	return s.clock().UTC().Truncate(time.Microsecond)
}

// q rewrites ? placeholders for PostgreSQL. Queries never contain a literal
// '?', so a plain scan is enough.
func (s *Store) q(query string) string {
	if s.flavor != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// forUpdate is the row-lock suffix. SQLite needs none: its write
// transactions start IMMEDIATE on the single writer connection, which already
// excludes every other writer.
func (s *Store) forUpdate() string {
	if s.flavor == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// inList returns "?,?,?" for n values.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// queryer is what reads need; both *sql.DB and *sql.Tx have it.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// inTx runs fn in a write transaction and commits when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// notFound maps sql.ErrNoRows to the domain's not-found error.
func notFound(err error, kind string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return chat.NotFound(kind)
	}
	return fmt.Errorf("%s: %w", kind, err)
}

// exists reports whether a row matches; query must select one column.
func exists(ctx context.Context, q queryer, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func nowMicros() int64 { return time.Now().UnixMicro() }
