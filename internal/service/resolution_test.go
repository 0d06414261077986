package service_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func TestResolutionTimeSQLite(t *testing.T) {
	testResolutionTime(t, func(t *testing.T, clock store.Clock) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestResolutionTimePostgres(t *testing.T) {
	testResolutionTime(t, func(t *testing.T, clock store.Clock) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{MaxConns: 4, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// Resolution time runs from a conversation's creation to its first
// resolution, whoever resolves it; a reopened conversation resolved again
// is not measured twice, and the summary gives the median and the mean.
func testResolutionTime(t *testing.T, open func(t *testing.T, clock store.Clock) store.Store) {
	ctx := context.Background()
	clock := &storetest.Clock{}
	st := open(t, clock.Now)
	e := servicetest.New(t, func(o *service.Options) { o.Store = st })
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Helper", Enabled: true}
	if err := st.CreateBot(ctx, &b); err != nil {
		t.Fatal(err)
	}
	start := func(a *chat.Assignee) *chat.Conversation {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: "V"}, SkipRouting: true, Assignee: a, SkipBotEvent: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	resolve := func(c *chat.Conversation, to chat.Status) {
		t.Helper()
		if _, err := e.Service.ChangeStatus(ctx, admin, c.ID, to); err != nil {
			t.Fatal(err)
		}
	}
	from := clock.Now().Add(-time.Minute)
	quick, slow := start(nil), start(&chat.Assignee{Type: chat.AssigneeBot, ID: b.ID})
	start(nil) // still open at the end: not measured
	clock.Advance(30 * time.Second)
	resolve(quick, chat.StatusResolved)
	clock.Advance(60 * time.Second)
	resolve(slow, chat.StatusResolved)
	// Reopened a day later and resolved again: the first resolution stands.
	clock.Advance(24 * time.Hour)
	resolve(quick, chat.StatusOpen)
	clock.Advance(time.Minute)
	resolve(quick, chat.StatusResolved)
	to := clock.Now().Add(time.Minute)

	sum, err := e.Service.AnalyticsSummary(ctx, admin, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// quick took 30 s, slow 90 s.
	want := store.ResponseTimes{Count: 2, MedianMillis: 30_000, AverageMillis: 60_000}
	if !near(sum.Resolution, want) {
		t.Fatalf("resolution = %+v, want %+v", sum.Resolution, want)
	}
	// The window is the resolution's time: a window that ends before the
	// slow one was resolved holds only the quick one.
	sum, err = e.Service.AnalyticsSummary(ctx, admin, from, from.Add(time.Minute+45*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.ResponseTimes{Count: 1, MedianMillis: 30_000, AverageMillis: 30_000}); !near(sum.Resolution, want) {
		t.Fatalf("resolution in the early window = %+v, want %+v", sum.Resolution, want)
	}
}

// near compares durations that the clock's moves fix, allowing for the
// real time a loaded machine spends between the moves.
func near(got, want store.ResponseTimes) bool {
	within := func(g, w int64) bool { return g >= w && g < w+10_000 }
	return got.Count == want.Count && within(got.MedianMillis, want.MedianMillis) && within(got.AverageMillis, want.AverageMillis)
}
