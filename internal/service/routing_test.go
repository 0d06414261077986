package service_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// routeAgent adds an agent to the default app, connected or not.
func routeAgent(t *testing.T, st store.Store, p chat.Presence, connected bool, node string) string {
	t.Helper()
	ctx := context.Background()
	a := chat.Agent{AppID: service.DefaultAppID, Email: chat.NewID() + "@example.com", Name: "Agent " + string(p), Role: chat.RoleAgent, Presence: p}
	if err := st.CreateAgent(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if connected {
		// One row per agent and node: SetNodeConnections replaces a node's list.
		if err := st.SetNodeConnections(ctx, node+a.ID, []store.AgentRef{{AppID: a.AppID, AgentID: a.ID}}, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

func setRules(t *testing.T, st store.Store, fn func(*chat.Rules)) {
	t.Helper()
	if _, err := st.UpdateAppRules(context.Background(), service.DefaultAppID, func(r *store.AppRules) error { fn(&r.Rules); return nil }); err != nil {
		t.Fatal(err)
	}
}

func startN(t *testing.T, svc *service.Service, actor service.Actor, n int) []*chat.Conversation {
	t.Helper()
	out := make([]*chat.Conversation, n)
	for i := range out {
		c, err := svc.StartConversation(context.Background(), actor, service.NewConversation{Contact: service.ContactInput{Name: "Visitor"}})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func TestRoutingAtStart(t *testing.T) {
	ctx := context.Background()
	env := func(t *testing.T) (*servicetest.Env, service.Actor) {
		e := servicetest.New(t, nil)
		actor, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
		if err != nil {
			t.Fatal(err)
		}
		return e, actor
	}

	t.Run("skipRouting keeps the caller's assignee", func(t *testing.T) {
		e, actor := env(t)
		away := routeAgent(t, e.Store, chat.PresenceAway, false, "n")
		setRules(t, e.Store, func(r *chat.Rules) { r.Mode = chat.ModeAutomatic; r.QueueWhenNobody = true })
		c, err := e.Service.StartConversation(ctx, actor, service.NewConversation{Contact: service.ContactInput{Name: "V"}, SkipRouting: true,
			Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: away}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Assignee == nil || c.Assignee.ID != away || c.Status != chat.StatusOpen {
			t.Fatalf("conversation = %+v", c)
		}
	})

	t.Run("bot routing picks the handle-all bot and queues its welcome", func(t *testing.T) {
		e, actor := env(t)
		b := chat.Bot{AppID: service.DefaultAppID, Type: chat.BotWebhook, Name: "Helper", Enabled: true}
		if err := e.Store.CreateBot(ctx, &b); err != nil {
			t.Fatal(err)
		}
		routeAgent(t, e.Store, chat.PresenceOnline, true, "n")
		setRules(t, e.Store, func(r *chat.Rules) { r.BotRouting, r.HandleAllBotID, r.Mode = true, b.ID, chat.ModeAutomatic })
		c := startN(t, e.Service, actor, 1)[0]
		if c.Assignee == nil || *c.Assignee != (chat.Assignee{Type: chat.AssigneeBot, ID: b.ID}) {
			t.Fatalf("assignee = %+v", c.Assignee)
		}
		turns, err := e.Store.PendingBotTurns(ctx, c.AppID, c.ID)
		if err != nil || len(turns) != 1 || turns[0].BotID != b.ID || turns[0].Event != "WELCOME" {
			t.Fatalf("turns = %+v (err %v)", turns, err)
		}
	})

	t.Run("notify everybody gives the default agent", func(t *testing.T) {
		e, actor := env(t)
		def := routeAgent(t, e.Store, chat.PresenceOnline, true, "n")
		setRules(t, e.Store, func(r *chat.Rules) { r.Mode, r.DefaultAgentID = chat.ModeNotifyEverybody, def })
		c := startN(t, e.Service, actor, 1)[0]
		if c.Assignee == nil || c.Assignee.ID != def || c.Status != chat.StatusOpen {
			t.Fatalf("conversation = %+v", c)
		}
	})

	t.Run("round robin skips away, offline, disconnected and full agents", func(t *testing.T) {
		e, actor := env(t)
		routeAgent(t, e.Store, chat.PresenceAway, true, "n")
		routeAgent(t, e.Store, chat.PresenceOffline, true, "n")
		routeAgent(t, e.Store, chat.PresenceOnline, false, "n")
		a1 := routeAgent(t, e.Store, chat.PresenceOnline, true, "n")
		a2 := routeAgent(t, e.Store, chat.PresenceOnline, true, "n")
		setRules(t, e.Store, func(r *chat.Rules) { r.Mode, r.MaxConcurrentChats, r.QueueWhenNobody = chat.ModeAutomatic, 2, true })
		counts := map[string]int{}
		cs := startN(t, e.Service, actor, 5)
		for _, c := range cs[:4] {
			if c.Assignee == nil {
				t.Fatalf("unplaced: %+v", c)
			}
			counts[c.Assignee.ID]++
		}
		if counts[a1] != 2 || counts[a2] != 2 {
			t.Fatalf("counts = %v", counts)
		}
		// Both at their limit: the fifth queues, and the contact hears why.
		last := cs[4]
		if last.Assignee != nil || last.Status != chat.StatusWaiting {
			t.Fatalf("fifth = %+v", last)
		}
		msgs, err := e.Service.ListMessages(ctx, actor, last.ID, 0, 10)
		if err != nil || len(msgs) != 1 || msgs[0].Sender.Type != chat.SenderSystem || msgs[0].Metadata[chat.MetaSkipBot] != "true" || msgs[0].Text == "" {
			t.Fatalf("messages = %+v (err %v)", msgs, err)
		}
	})

	t.Run("nobody online: default agent when not queueing", func(t *testing.T) {
		e, actor := env(t)
		def := routeAgent(t, e.Store, chat.PresenceAway, false, "n")
		setRules(t, e.Store, func(r *chat.Rules) { r.Mode, r.DefaultAgentID = chat.ModeAutomatic, def })
		c := startN(t, e.Service, actor, 1)[0]
		if c.Assignee == nil || c.Assignee.ID != def || c.Status != chat.StatusOpen {
			t.Fatalf("conversation = %+v", c)
		}
	})
}

// TestTwoNodesRoundRobin is the proof: two services, each on its
// own store (own connection pool) over one PostgreSQL database, start 200
// conversations at once by round robin. The cursor lock makes the wheel
// exact: 4 agents get 50 each, give or take one, and no conversation is
// placed twice (the inbox holds one assignment per conversation).
func TestTwoNodesRoundRobin(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	keys, err := auth.NewKeyring(bytes.Repeat([]byte{7}, auth.MasterKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	var svcs []*service.Service
	var stores []store.Store
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
		svcs = append(svcs, service.New(service.Options{Store: st, Keys: keys, Passwords: auth.TestParams, NodeID: "node" + string(rune('A'+i))}))
	}
	if _, err := svcs[0].EnsureDefaults(ctx, service.Bootstrap{AdminEmail: servicetest.OwnerEmail, AdminPassword: servicetest.OwnerPassword, APIKey: servicetest.APIKey}); err != nil {
		t.Fatal(err)
	}
	actor, err := svcs[0].AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	// The bootstrap owner is an agent too: make sure they are not a candidate.
	owner, err := stores[0].AgentByEmail(ctx, servicetest.OwnerEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].SetAgentPresence(ctx, owner.AppID, owner.ID, chat.PresenceOffline); err != nil {
		t.Fatal(err)
	}
	agents := map[string]bool{}
	for i := 0; i < 4; i++ {
		agents[routeAgent(t, stores[i%2], chat.PresenceOnline, true, "node")] = true
	}
	setRules(t, stores[0], func(r *chat.Rules) { r.Mode = chat.ModeAutomatic })

	const total = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	ids := map[string]bool{}
	errs := make(chan error, total)
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := svcs[i%2].StartConversation(ctx, actor, service.NewConversation{Contact: service.ContactInput{Name: "Visitor"}})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[c.ID] = true
			if c.Assignee != nil {
				counts[c.Assignee.ID]++
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	lo, hi, sum := total, 0, 0
	for id := range agents {
		lo, hi, sum = min(lo, counts[id]), max(hi, counts[id]), sum+counts[id]
	}
	if sum != total || hi-lo > 1 || len(ids) != total {
		t.Fatalf("counts %v (sum %d of %d conversations), want %d ± 1 each", counts, sum, len(ids), total/len(agents))
	}
	// Each conversation was assigned exactly once: one assignment in the inbox.
	assigned := map[string]int{}
	var after int64
	for {
		evs, err := stores[1].ListInboxEvents(ctx, service.DefaultAppID, after, store.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Kind != chat.InboxCreated && ev.Conversation.Assignee != nil {
				assigned[ev.Conversation.ID]++
			}
			after = ev.Seq
		}
	}
	for id := range ids {
		if assigned[id] != 1 {
			t.Fatalf("conversation %s assigned %d times", id, assigned[id])
		}
	}
}
