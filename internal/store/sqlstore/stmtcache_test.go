package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"
)

// countingConnector counts what the cache asks of the driver: prepares,
// statement closes and one-shot (uncached) queries.
type countingConnector struct {
	driver.Connector
	prepares, closes, oneShots atomic.Int64
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: c}, nil
}

type countingConn struct {
	driver.Conn
	c *countingConnector
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cc.c.prepares.Add(1)
	s, err := cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: s, c: cc.c}, nil
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cc.c.oneShots.Add(1)
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cc.c.oneShots.Add(1)
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

type countingStmt struct {
	driver.Stmt
	c *countingConnector
}

func (s *countingStmt) Close() error {
	s.c.closes.Add(1)
	return s.Stmt.Close()
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func openCounting(t *testing.T, capacity, conns int) (*sql.DB, *countingConnector) {
	t.Helper()
	inner, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_journal_mode=WAL&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConnector{Connector: inner}
	db := sql.OpenDB(CacheStatements(cc, capacity))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return db, cc
}

// A query run many times on one connection, in and out of transactions, is
// compiled once, and gives the same answers as before it was cached.
func TestStatementCachePreparesOnce(t *testing.T) {
	db, cc := openCounting(t, 0, 1)
	ctx := context.Background()
	before := cc.prepares.Load()
	for i := range 50 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = ?", i).Scan(&v); err != nil || v != fmt.Sprint("v", i) {
			t.Fatalf("row %d: %q, %v", i, v, err)
		}
	}
	if n := cc.prepares.Load() - before; n != 2 {
		t.Fatalf("%d prepares for two distinct queries run 50 times each, want 2", n)
	}
	if n := cc.oneShots.Load(); n != 0 {
		t.Fatalf("%d uncached calls, want 0", n)
	}
}

// Running a query again while its own rows are still being read (on the
// same connection, as a transaction does) must not reset the rows being
// read: the inner run gets a statement of its own.
func TestStatementCacheNestedSameQuery(t *testing.T) {
	db, cc := openCounting(t, 0, 1)
	ctx := context.Background()
	for i := range 5 {
		if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = "SELECT k, v FROM kv WHERE k >= ? ORDER BY k"
	outer, err := tx.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		var inner int
		if err := tx.QueryRowContext(ctx, q, k).Scan(&inner, &v); err != nil || inner != k {
			t.Fatalf("inner query for %d: %d, %v", k, inner, err)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("outer rows %v, want [0 1 2 3 4]", got)
	}
	if cc.oneShots.Load() != 5 {
		t.Fatalf("%d uncached runs, want 5 (one per inner query)", cc.oneShots.Load())
	}
	// Once the outer rows are closed the cached statement serves again.
	before := cc.oneShots.Load()
	var k int
	var v string
	if err := tx.QueryRowContext(ctx, q, 3).Scan(&k, &v); err != nil || k != 3 {
		t.Fatalf("after: %d, %v", k, err)
	}
	if cc.oneShots.Load() != before {
		t.Fatal("the cached statement was not reused after its rows closed")
	}
}

// A full cache makes room by closing a statement; results stay right, and
// closing the pool closes every statement it prepared.
func TestStatementCacheEvictsAndCloses(t *testing.T) {
	db, cc := openCounting(t, 4, 1)
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		// Ten distinct texts through a cache of four.
		q := fmt.Sprintf("SELECT v || '%d' FROM kv WHERE k = ?", i%10)
		var v string
		if err := db.QueryRow(q, 1).Scan(&v); err != nil || v != fmt.Sprint("a", i%10) {
			t.Fatalf("query %d: %q, %v", i, v, err)
		}
	}
	if c, p := cc.closes.Load(), cc.prepares.Load(); c == 0 || p-c > 4 {
		t.Fatalf("%d prepared, %d closed: more than 4 kept", p, c)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if c, p := cc.closes.Load(), cc.prepares.Load(); c != p {
		t.Fatalf("after Close: %d prepared, %d closed", p, c)
	}
}

// Errors read as the driver's own: a bad query and a wrong argument count
// fail as they would uncached, and leave the connection usable.
func TestStatementCacheErrors(t *testing.T) {
	db, _ := openCounting(t, 0, 1)
	if _, err := db.Exec("SELEC nonsense"); err == nil {
		t.Fatal("a syntax error was accepted")
	}
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", 1); err == nil {
		t.Fatal("a missing argument was accepted")
	}
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", 1, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", 1, "y"); err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	var v string
	if err := db.QueryRow("SELECT v FROM kv WHERE k = ?", 1).Scan(&v); err != nil || v != "x" {
		t.Fatalf("%q, %v", v, err)
	}
}

// Many goroutines over a pool of several connections: every connection has
// its own cache, used by one goroutine at a time.
func TestStatementCacheConcurrent(t *testing.T) {
	db, _ := openCounting(t, 0, 4)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := g*1000 + i
				if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", k, fmt.Sprint(k)); err != nil {
					errs <- err
					return
				}
				var v string
				if err := db.QueryRow("SELECT v FROM kv WHERE k = ?", k).Scan(&v); err != nil || v != fmt.Sprint(k) {
					errs <- fmt.Errorf("row %d: %q, %v", k, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 400 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
