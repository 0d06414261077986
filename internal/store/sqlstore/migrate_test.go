package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
)

// migrationDB is one flavor's fresh database; open gives another node's
// connection pool to it.
type migrationDB struct {
	flavor sqlstore.Flavor
	open   func(t *testing.T) *sql.DB
	// sleep is a statement that holds a migration open for a moment, to
	// widen the window in which nodes race.
	sleep string
}

func sqliteDB(t *testing.T) migrationDB {
	path := filepath.Join(t.TempDir(), "m.db")
	return migrationDB{
		flavor: sqlstore.SQLite,
		open: func(t *testing.T) *sql.DB {
			// As the store opens its writer: immediate transactions wait
			// for the write lock instead of failing to upgrade.
			db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_busy_timeout=10000")
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			t.Cleanup(func() { db.Close() })
			return db
		},
		sleep: "SELECT 1;",
	}
}

func postgresDB(t *testing.T) migrationDB {
	url := pgtest.URL(t)
	return migrationDB{
		flavor: sqlstore.Postgres,
		open: func(t *testing.T) *sql.DB {
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			db := stdlib.OpenDB(*cfg)
			t.Cleanup(func() { db.Close() })
			return db
		},
		sleep: "SELECT pg_sleep(0.2);",
	}
}

func eachFlavor(t *testing.T, f func(t *testing.T, m migrationDB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteDB(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresDB(t)) })
}

func count(t *testing.T, db *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Several nodes starting at once against a fresh database all succeed, and
// each migration runs exactly once: a second run of "CREATE TABLE" would
// fail, and the log would have more than one row.
func TestMigrateConcurrentStarts(t *testing.T) {
	eachFlavor(t, func(t *testing.T, m migrationDB) {
		migrations := fstest.MapFS{
			"0001_a.sql": {Data: []byte(m.sleep + " CREATE TABLE once_a (id INTEGER PRIMARY KEY); CREATE TABLE runs (name TEXT); INSERT INTO runs VALUES ('a');")},
			"0002_b.sql": {Data: []byte(m.sleep + " CREATE TABLE once_b (id INTEGER PRIMARY KEY); INSERT INTO runs VALUES ('b');")},
		}
		const nodes = 4
		dbs := make([]*sql.DB, nodes)
		for i := range dbs {
			dbs[i] = m.open(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := make(chan struct{})
		errs := make([]error, nodes)
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() {
				<-start
				errs[i] = sqlstore.Migrate(ctx, db, m.flavor, migrations)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("node %d: %v", i, err)
			}
		}
		if n := count(t, dbs[0], "SELECT COUNT(*) FROM runs"); n != 2 {
			t.Fatalf("migrations ran %d times, want 2 (once each)", n)
		}
		if n := count(t, dbs[0], "SELECT COUNT(*) FROM schema_migrations"); n != 2 {
			t.Fatalf("%d versions recorded, want 2", n)
		}
	})
}

// A node older than the schema refuses to start rather than run against
// tables a newer release has changed; the database is left as it was.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	eachFlavor(t, func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		db := m.open(t)
		newer := fstest.MapFS{
			"0001_a.sql": {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);")},
			"0002_b.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY);")},
		}
		if err := sqlstore.Migrate(ctx, db, m.flavor, newer); err != nil {
			t.Fatal(err)
		}
		older := fstest.MapFS{"0001_a.sql": newer["0001_a.sql"]}
		err := sqlstore.Migrate(ctx, db, m.flavor, older)
		if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
			t.Fatalf("older build: %v, want ErrSchemaTooNew", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM schema_migrations"); n != 2 {
			t.Fatalf("%d versions recorded after the refusal, want 2", n)
		}
		// The same build, and a newer one, still start.
		if err := sqlstore.Migrate(ctx, db, m.flavor, newer); err != nil {
			t.Fatalf("same build: %v", err)
		}
		newer["0003_c.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE c (id INTEGER PRIMARY KEY);")}
		if err := sqlstore.Migrate(ctx, db, m.flavor, newer); err != nil {
			t.Fatalf("newer build: %v", err)
		}
	})
}

// A migration that fails leaves the schema as it was, so the next start
// (with the fix) begins from a known state.
func TestMigrateFailureRollsBack(t *testing.T) {
	eachFlavor(t, func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		db := m.open(t)
		bad := fstest.MapFS{
			"0001_a.sql": {Data: []byte("CREATE TABLE a (id INTEGER PRIMARY KEY);")},
			"0002_b.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1);")},
		}
		if err := sqlstore.Migrate(ctx, db, m.flavor, bad); err == nil {
			t.Fatal("a failing migration succeeded")
		}
		fixed := fstest.MapFS{
			"0001_a.sql": bad["0001_a.sql"],
			"0002_b.sql": {Data: []byte("CREATE TABLE b (id INTEGER PRIMARY KEY);")},
		}
		if err := sqlstore.Migrate(ctx, db, m.flavor, fixed); err != nil {
			t.Fatalf("after the fix: %v (was the failed run left half-applied?)", err)
		}
	})
}
