package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

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
}
