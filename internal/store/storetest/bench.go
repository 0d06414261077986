package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// benchDeadline bounds every benchmark loop in time as well as in count
// (b.N), so a slow machine cannot turn a run into an hour.
const benchDeadline = 20 * time.Second

// baselines remembers each database's raw insert rate from this run, so the
// append benchmark can report its ratio to it.
var baselines sync.Map // flavor name -> rows/s

// BenchAppends measures acknowledged appends per second: senders goroutines
// each send a message (with a client key, as the widget does), wait until the
// store says it is durable, and send the next, spread over convs
// conversations. b.N is the total number of messages.
func BenchAppends(b *testing.B, s store.Store, flavor string, senders, convs int) {
	BenchAppendsAcross(b, []store.Store{s}, flavor, senders, convs)
}

// BenchAppendsAcross is BenchAppends with the senders taking turns over
// several stores on one database, as the nodes of one installation do: each
// store batches its own senders' appends, and the batches of different
// stores meet in the database's row locks.
func BenchAppendsAcross(b *testing.B, stores []store.Store, flavor string, senders, convs int) {
	ctx := context.Background()
	w := newWorld(b, stores[0])
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = w.newConv(b, stores[0]).ID
	}
	var next, done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	deadline := start.Add(benchDeadline)
	for g := range senders {
		wg.Add(1)
		s := stores[g%len(stores)]
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > int64(b.N) || time.Now().After(deadline) {
					return
				}
				m := w.contactSays("Hello, I would like to know where my order is, please. #" + strconv.FormatInt(n, 10))
				m.ClientKey = "bench-" + strconv.Itoa(g) + "-" + strconv.FormatInt(n, 10)
				if _, _, err := s.AppendMessage(ctx, w.app.ID, ids[int(n)%len(ids)], m); err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	rate := float64(done.Load()) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(0, "ns/op") // the rate is the figure; per-op time of a concurrent loop misleads
	if base, ok := baselines.Load(flavor); ok {
		b.ReportMetric(rate/base.(float64), "x_raw_insert")
	}
}

// BenchRawInsert measures the database's plain batched INSERT rate, the
// ceiling group commit is compared with: one goroutine inserts rows as wide
// as a message into a scratch table without secondary indexes, 100 rows per
// statement and 500 per transaction, on a connection with the store's
// durability settings. b.N is the number of rows. postgres selects $n
// placeholders.
func BenchRawInsert(b *testing.B, db *sql.DB, flavor string, postgres bool) {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (
		id TEXT PRIMARY KEY, app_id TEXT NOT NULL, conversation_id TEXT NOT NULL, seq BIGINT NOT NULL,
		sender_type TEXT NOT NULL, sender_id TEXT NOT NULL, text TEXT NOT NULL, content_type BIGINT NOT NULL,
		metadata TEXT NOT NULL, attachments TEXT NOT NULL, location TEXT NOT NULL, client_key TEXT NOT NULL,
		created_at BIGINT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	const perStmt, perTx, cols = 100, 500, 13
	var sb strings.Builder
	sb.WriteString("INSERT INTO bench_raw VALUES ")
	p := 0
	for r := range perStmt {
		if r > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(")
		for c := range cols {
			if c > 0 {
				sb.WriteString(",")
			}
			p++
			if postgres {
				sb.WriteString("$" + strconv.Itoa(p))
			} else {
				sb.WriteString("?")
			}
		}
		sb.WriteString(")")
	}
	insert := sb.String()
	conv, app := chat.NewID(), chat.NewID()
	args := make([]any, 0, perStmt*cols)

	b.ResetTimer()
	start := time.Now()
	deadline := start.Add(benchDeadline)
	rows := 0
	for rows < b.N && time.Now().Before(deadline) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for range perTx / perStmt {
			args = args[:0]
			for range perStmt {
				rows++
				args = append(args, chat.NewID(), app, conv, int64(rows), "contact", "c1",
					fmt.Sprintf("Hello, I would like to know where my order is, please. #%d", rows), int64(0),
					"{}", "[]", "", "bench-"+strconv.Itoa(rows), time.Now().UnixMicro())
			}
			if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(rows) / elapsed.Seconds()
	baselines.Store(flavor, rate)
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(0, "ns/op")
}
