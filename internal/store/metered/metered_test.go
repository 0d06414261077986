package metered_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/metered"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

// The wrapper must be invisible: the whole store suite runs through it.
func TestSuiteThroughWrapper(t *testing.T) {
	reg := prometheus.NewRegistry()
	var (
		mu      sync.Mutex
		wrapped int
	)
	// t.Run returns only when the suite's parallel subtests are done.
	t.Run("suite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			wrapped++
			return metered.Wrap(s, prometheus.WrapRegistererWith(prometheus.Labels{"test": t.Name()}, reg))
		})
	})
	if wrapped == 0 {
		t.Fatal("the suite opened no store")
	}
	// Successful and failed calls are both recorded, by operation.
	out, err := testutil.CollectAndLint(reg)
	if err != nil || len(out) > 0 {
		t.Fatalf("metrics lint: %v %v", out, err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var op, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			seen[op+"/"+outcome] = true
		}
	}
	for _, want := range []string{"AppendMessage/ok", "GetConversation/not_found", "CreateAgent/conflict"} {
		if !seen[want] {
			var keys []string
			for k := range seen {
				keys = append(keys, k)
			}
			t.Errorf("no observation for %s; have %s", want, strings.Join(keys, " "))
		}
	}
}
