package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

// BenchmarkAppends is the figure in docs/benchmarks.md: acknowledged appends
// per second with 64 senders, beside the raw batched-INSERT rate of a
// connection with the same durability settings. Run RawInsert first (it does,
// by name order within this function) so the ratio can be reported.
func BenchmarkAppends(b *testing.B) {
	ctx := context.Background()
	b.Run("RawInsert", func(b *testing.B) {
		db, err := openWriter(ctx, filepath.Join(b.TempDir(), "raw.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		storetest.BenchRawInsert(b, db, "sqlite", false)
	})
	for _, convs := range []int{256, 1} {
		b.Run(fmt.Sprintf("Senders64/Convs%d", convs), func(b *testing.B) {
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchAppends(b, s, "sqlite", 64, convs)
		})
	}
}
