package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

// BenchmarkAppends is the figure in docs/benchmarks.md; see the SQLite twin.
func BenchmarkAppends(b *testing.B) {
	ctx := context.Background()
	b.Run("RawInsert", func(b *testing.B) {
		cfg, err := pgx.ParseConfig(pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		storetest.BenchRawInsert(b, db, "postgres", true)
	})
	for _, convs := range []int{256, 1} {
		b.Run(fmt.Sprintf("Senders64/Convs%d", convs), func(b *testing.B) {
			s, err := Open(ctx, pgtest.URL(b), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchAppends(b, s, "postgres", 64, convs)
		})
	}
	// Two nodes: two stores, each with its own pool and group committer, on
	// one database, the senders split between them.
	b.Run("TwoStores/Senders64/Convs256", func(b *testing.B) {
		url := pgtest.URL(b)
		var stores []store.Store
		for range 2 {
			s, err := Open(ctx, url, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			stores = append(stores, s)
		}
		storetest.BenchAppendsAcross(b, stores, "postgres", 64, 256)
	})
}
