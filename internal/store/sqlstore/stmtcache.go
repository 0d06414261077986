package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
)

// DefaultStatementCache is how many statements each connection keeps
// prepared. The store's fixed queries number well under a hundred; the rest
// of the room is for queries whose text varies (IN lists of different
// lengths), which take turns in it.
const DefaultStatementCache = 256

// CacheStatements wraps a connector so that every connection it opens keeps
// the statements it runs prepared, keyed by their SQL text, instead of
// compiling each query anew. Every query and exec, in a transaction or not,
// goes through the cache, so the store's queries need no changes to use it.
//
// Connections are never used by two goroutines at once (database/sql
// guarantees it), so a connection's cache needs no lock. A statement whose
// rows are still open is busy: running the same text again meanwhile (a
// query nested in another's loop) compiles a one-off statement instead of
// resetting the one being read. Closing the connection closes its
// statements, so closing the pool releases them all.
//
// It is for drivers whose Exec and Query compile the SQL on every call
// (modernc.org/sqlite). Drivers that cache on their own connection (pgx,
// which prepares and caches each distinct query by default) gain nothing.
func CacheStatements(c driver.Connector, capacity int) driver.Connector {
	if capacity <= 0 {
		capacity = DefaultStatementCache
	}
	return &cachingConnector{Connector: c, capacity: capacity}
}

type cachingConnector struct {
	driver.Connector
	capacity int
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	// A driver without the context-taking calls is left as it is.
	prep, ok := conn.(driver.ConnPrepareContext)
	begin, ok2 := conn.(driver.ConnBeginTx)
	if !ok || !ok2 {
		return conn, nil
	}
	return &cachingConn{Conn: conn, prep: prep, begin: begin, capacity: c.capacity, stmts: map[string]*cachedStmt{}}, nil
}

// cachingConn is one connection with its prepared statements.
type cachingConn struct {
	driver.Conn
	prep     driver.ConnPrepareContext
	begin    driver.ConnBeginTx
	capacity int
	stmts    map[string]*cachedStmt
}

type cachedStmt struct {
	s     driver.Stmt
	exec  driver.StmtExecContext
	query driver.StmtQueryContext
	// inputs is the statement's placeholder count, or -1 when the driver
	// cannot tell.
	inputs int
	busy   bool
}

var (
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.NamedValueChecker  = (*cachingConn)(nil)
)

// stmt returns the idle cached statement for query with room for nargs
// arguments, preparing it on first use, or nil when the caller should run
// the query uncached: the statement is busy, the driver cannot run
// prepared statements with a context, the argument count is not the
// statement's (the uncached path reports that error as the driver words
// it), or preparing failed (likewise).
func (c *cachingConn) stmt(ctx context.Context, query string, nargs int) *cachedStmt {
	st, ok := c.stmts[query]
	if !ok {
		s, err := c.prep.PrepareContext(ctx, query)
		if err != nil {
			return nil
		}
		st = &cachedStmt{s: s, inputs: s.NumInput()}
		st.exec, _ = s.(driver.StmtExecContext)
		st.query, _ = s.(driver.StmtQueryContext)
		if len(c.stmts) >= c.capacity {
			c.evictOne()
		}
		c.stmts[query] = st
	}
	if st.busy || st.exec == nil || st.query == nil || st.inputs >= 0 && st.inputs != nargs {
		return nil
	}
	return st
}

// evictOne closes one idle statement to make room. Which one does not
// matter much: map order is arbitrary, and the fixed hot queries come
// straight back on their next use.
func (c *cachingConn) evictOne() {
	for q, st := range c.stmts {
		if !st.busy {
			_ = st.s.Close()
			delete(c.stmts, q)
			return
		}
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st := c.stmt(ctx, query, len(args))
	if st == nil {
		return c.uncachedQuery(ctx, query, args)
	}
	rows, err := st.query.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	st.busy = true
	return &cachedRows{Rows: rows, st: st}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st := c.stmt(ctx, query, len(args))
	if st == nil {
		return c.uncachedExec(ctx, query, args)
	}
	return st.exec.ExecContext(ctx, args)
}

// The uncached paths use the driver's own one-shot calls; ErrSkip, from a
// driver without them, makes database/sql prepare, run and close a
// statement itself.
func (c *cachingConn) uncachedQuery(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) uncachedExec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// PrepareContext is for callers that manage a statement themselves: they
// get their own, outside the cache, which they close.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.prep.PrepareContext(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.begin.BeginTx(ctx, opts)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// CheckNamedValue defers to the driver's own argument conversion, or to
// database/sql's default (ErrSkip) when it has none.
func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.Conn.Close())...)
}

// cachedRows frees its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	st *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.st.busy = false
	return err
}
