package postgres_test

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// Nodes of a cluster started together against a fresh database all come
// up, and the schema is applied once.
func TestOpenConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const nodes = 4
	errs := make([]error, nodes)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(os.DirFS("."), "*.sql")
	if n != len(files) || n == 0 {
		t.Fatalf("%d migrations recorded, want %d", n, len(files))
	}
}
