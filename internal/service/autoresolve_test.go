package service_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
)

// offsetClock is the services' and the stores' clock, moved forward to
// make conversations idle.
type offsetClock struct{ d atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.d.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.d.Add(int64(d)) }

// sweepNodes returns one service ("node") per store, all on clk, the
// first bootstrapped.
func sweepNodes(t *testing.T, stores []store.Store, clk *offsetClock) []*service.Service {
	t.Helper()
	keys, err := auth.NewKeyring(bytes.Repeat([]byte{7}, auth.MasterKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	var out []*service.Service
	for _, st := range stores {
		out = append(out, service.New(service.Options{Store: st, Keys: keys, Passwords: auth.TestParams, Now: clk.Now}))
	}
	if _, err := out[0].EnsureDefaults(context.Background(), service.Bootstrap{AdminEmail: servicetest.OwnerEmail, AdminPassword: servicetest.OwnerPassword, APIKey: servicetest.APIKey}); err != nil {
		t.Fatal(err)
	}
	return out
}

// testAutoResolve: conversations idle past the app's rule are resolved with
// one notice each, whether a bot, a person or the queue holds them; a team
// that turns the rule off keeps its own; busy and closed ones are left.
// Two nodes sweep at once and neither resolves or posts twice.
func testAutoResolve(t *testing.T, nodes []*service.Service, st store.Store, clk *offsetClock) {
	ctx := context.Background()
	svc := nodes[0]
	admin, err := svc.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Helper", Enabled: true}
	if err := st.CreateBot(ctx, &b); err != nil {
		t.Fatal(err)
	}
	team, err := svc.CreateTeam(ctx, admin, service.NewTeam{Name: "Night"})
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	if _, err := svc.PutTeamRules(ctx, admin, team.ID, service.TeamRulesDoc{AutoResolveMinutes: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutRules(ctx, admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true, AutoResolveMinutes: 30}); err != nil {
		t.Fatal(err)
	}
	start := func(in service.NewConversation) *chat.Conversation {
		t.Helper()
		in.Contact = service.ContactInput{Name: "V"}
		in.SkipBotEvent = true
		c, err := svc.StartConversation(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	withBot := start(service.NewConversation{SkipRouting: true, Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}})
	queued := start(service.NewConversation{}) // nobody online: it waits
	if queued.Status != chat.StatusWaiting {
		t.Fatalf("queued = %+v", queued)
	}
	var idle []*chat.Conversation
	for range 5 {
		idle = append(idle, start(service.NewConversation{}))
	}
	teamConv := start(service.NewConversation{TeamID: team.ID})
	closed := start(service.NewConversation{})
	if _, err := svc.ChangeStatus(ctx, admin, closed.ID, chat.StatusSpam); err != nil {
		t.Fatal(err)
	}
	busy := start(service.NewConversation{})

	clk.Advance(20 * time.Minute)
	if n, err := svc.ResolveIdle(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep before the rule's time resolved %d (err %v)", n, err)
	}
	// Activity resets the wait.
	if _, _, err := svc.SendMessage(ctx, service.ContactActor(busy.AppID, busy.ContactID), busy.ID, service.SendInput{Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(11 * time.Minute)

	var wg sync.WaitGroup
	var total atomic.Int64
	for _, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := node.ResolveIdle(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		}()
	}
	wg.Wait()
	want := append([]*chat.Conversation{withBot, queued}, idle...)
	if total.Load() != int64(len(want)) {
		t.Fatalf("the nodes resolved %d together, want %d", total.Load(), len(want))
	}
	for _, c := range want {
		got, err := st.GetConversation(ctx, c.AppID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != chat.StatusResolved {
			t.Fatalf("%s is %v, want resolved", c.ID, got.Status)
		}
		msgs, err := st.ListMessages(ctx, c.AppID, c.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		notices := 0
		for _, m := range msgs {
			if m.Text == chat.AutoResolvedNotice().Text {
				notices++
			}
		}
		if notices != 1 {
			t.Fatalf("%s has %d auto-resolve notices, want 1: %+v", c.ID, notices, msgs)
		}
	}
	for _, c := range []*chat.Conversation{teamConv, busy} {
		if got, _ := st.GetConversation(ctx, c.AppID, c.ID); got.Status.Closed() {
			t.Fatalf("%s was resolved: %+v", c.ID, got)
		}
	}
	if got, _ := st.GetConversation(ctx, closed.AppID, closed.ID); got.Status != chat.StatusSpam {
		t.Fatalf("the spam conversation became %v", got.Status)
	}
	// The bot's conversation counts as bot-resolved.
	sum, err := svc.AnalyticsSummary(ctx, admin, clk.Now().Add(-time.Hour), clk.Now().Add(time.Hour))
	if err != nil || sum.BotResolved != 1 {
		t.Fatalf("bot-resolved = %+v, %v", sum, err)
	}
	if n, err := svc.ResolveIdle(ctx); err != nil || n != 0 {
		t.Fatalf("a later sweep resolved %d more (err %v)", n, err)
	}
}

func TestAutoResolveSQLite(t *testing.T) {
	clk := &offsetClock{}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testAutoResolve(t, sweepNodes(t, []store.Store{st, st}, clk), st, clk)
}

func TestAutoResolvePostgres(t *testing.T) {
	url := pgtest.URL(t)
	clk := &offsetClock{}
	var stores []store.Store
	for range 2 {
		st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 4, Clock: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	testAutoResolve(t, sweepNodes(t, stores, clk), stores[0], clk)
}

// RunAutoResolve stops when its context ends.
func TestRunAutoResolveStops(t *testing.T) {
	e := servicetest.New(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Service.RunAutoResolve(ctx, 10*time.Millisecond) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the sweeper did not stop")
	}
}
