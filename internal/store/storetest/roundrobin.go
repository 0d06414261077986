package storetest

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// rotate is a minimal decide: the next agent after the cursor, in id
// order. It refuses a conversation that already has an assignee, so a
// conversation placed twice fails the test.
func rotate(agents []string) func(store.RoundRobin, *chat.Conversation) (string, error) {
	return func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if c.Assignee != nil {
			return "", errors.New("conversation " + c.ID + " placed twice")
		}
		next := agents[0]
		for _, id := range agents {
			if id > rr.Cursor {
				next = id
				break
			}
		}
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: next}
		return next, nil
	}
}

// rrAgents adds n agents to w's app and returns their ids sorted.
func rrAgents(t testing.TB, s store.Store, w *world, n int) []string {
	t.Helper()
	ids := []string{}
	for i := 0; i < n; i++ {
		a := chat.Agent{AppID: w.app.ID, Email: "rr" + unique() + "@example.com", Name: "Agent", Role: chat.RoleAgent, Presence: chat.PresenceOnline}
		must(t, s.CreateAgent(context.Background(), &a))
		ids = append(ids, a.ID)
	}
	sort.Strings(ids)
	return ids
}

// ConcurrentRoundRobin places 8×25 conversations at once over 4 agents,
// spread over nodes (stores on one database): the cursor lock must make
// the rotation exact, so counts differ by at most one, and every
// conversation is placed once.
func ConcurrentRoundRobin(t *testing.T, nodes []store.Store) {
	ctx := context.Background()
	s := nodes[0]
	w := newWorld(t, s)
	agents := rrAgents(t, s, w, 4)
	const goroutines, each = 8, 25
	convs := make([]string, goroutines*each)
	for i := range convs {
		convs[i] = w.newConv(t, s).ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(convs))
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			node := nodes[g%len(nodes)]
			for i := 0; i < each; i++ {
				if _, err := node.AssignRoundRobin(ctx, w.app.ID, "", convs[g*each+i], rotate(agents)); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, id := range convs {
		c, err := s.GetConversation(ctx, w.app.ID, id)
		must(t, err)
		if c.Assignee == nil {
			t.Fatalf("conversation %s not placed", id)
		}
		counts[c.Assignee.ID]++
	}
	lo, hi := len(convs), 0
	for _, id := range agents {
		lo, hi = min(lo, counts[id]), max(hi, counts[id])
	}
	if hi-lo > 1 {
		t.Fatalf("unfair rotation: %v", counts)
	}
	// The counts decide sees are the ones just written.
	_, err := s.AssignRoundRobin(ctx, w.app.ID, "", w.newConv(t, s).ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		for _, id := range agents {
			if rr.OpenChats[id] != counts[id] {
				t.Errorf("open chats of %s = %d, want %d", id, rr.OpenChats[id], counts[id])
			}
		}
		return rr.Cursor, nil
	})
	must(t, err)
}

func testRoundRobin(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	agents := rrAgents(t, s, w, 2)
	before := inboxSeq(t, s, w.app.ID)
	c1 := w.newConv(t, s)
	got, err := s.AssignRoundRobin(ctx, w.app.ID, "", c1.ID, rotate(agents))
	must(t, err)
	if got.Assignee == nil || got.Assignee.ID != agents[0] {
		t.Fatalf("first placement = %+v, want %s", got.Assignee, agents[0])
	}
	// The change went through UpdateConversation's path: created, then assigned.
	evs := inboxSince(t, s, w.app.ID, before)
	if len(evs) != 2 || evs[1].Kind == chat.InboxCreated || evs[1].Conversation.Assignee == nil || evs[1].Conversation.Assignee.ID != agents[0] {
		t.Fatalf("inbox events = %+v", evs)
	}

	// decide sees the stored cursor and the counts; the team's wheel is
	// its own; the conversation being placed is not counted.
	c2 := w.newConv(t, s)
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c2.ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if rr.Cursor != agents[0] || rr.OpenChats[agents[0]] != 1 {
			t.Errorf("state = %+v", rr)
		}
		return rotate(agents)(rr, c)
	})
	must(t, err)
	_, err = s.AssignRoundRobin(ctx, w.app.ID, w.team.ID, w.newConv(t, s).ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if rr.Cursor != "" {
			t.Errorf("team cursor = %q, want a fresh wheel", rr.Cursor)
		}
		return rr.Cursor, nil
	})
	must(t, err)
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c2.ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if _, ok := rr.OpenChats[agents[1]]; ok {
			t.Errorf("the conversation being placed was counted: %+v", rr.OpenChats)
		}
		return rr.Cursor, nil
	})
	must(t, err)

	// Closed conversations free a slot.
	_, err = s.UpdateConversation(ctx, w.app.ID, c1.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil })
	must(t, err)
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", w.newConv(t, s).ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if rr.OpenChats[agents[0]] != 0 {
			t.Errorf("resolved chat still counted: %+v", rr.OpenChats)
		}
		return rr.Cursor, nil
	})
	must(t, err)

	// A failing decide writes nothing: neither the conversation nor the cursor.
	c3 := w.newConv(t, s)
	boom := errors.New("boom")
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c3.ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: agents[0]}
		return "zzz", boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c3.ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if rr.Cursor != agents[1] || c.Assignee != nil {
			t.Errorf("a failed decide left cursor %q, assignee %+v", rr.Cursor, c.Assignee)
		}
		return rr.Cursor, nil
	})
	must(t, err)

	// The store checks decide's assignee like any update.
	_, err = s.AssignRoundRobin(ctx, w.app.ID, "", c3.ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: chat.NewID()}
		return rr.Cursor, nil
	})
	wantCode(t, err, chat.CodeInvalid)
}

func testRoundRobinTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := newWorld(t, s), newWorld(t, s)
	agentsA := rrAgents(t, s, a, 2)
	_, err := s.AssignRoundRobin(ctx, a.app.ID, "", a.newConv(t, s).ID, rotate(agentsA))
	must(t, err)
	// Another app's conversation is not found through this app.
	_, err = s.AssignRoundRobin(ctx, b.app.ID, "", a.newConv(t, s).ID, rotate(agentsA))
	wantCode(t, err, chat.CodeNotFound)
	// Another app's agent cannot be assigned.
	_, err = s.AssignRoundRobin(ctx, b.app.ID, "", b.newConv(t, s).ID, rotate(agentsA))
	wantCode(t, err, chat.CodeInvalid)
	// Wheels and counts are per app.
	_, err = s.AssignRoundRobin(ctx, b.app.ID, "", b.newConv(t, s).ID, func(rr store.RoundRobin, c *chat.Conversation) (string, error) {
		if rr.Cursor != "" || len(rr.OpenChats) != 0 {
			t.Errorf("app B sees app A's wheel: %+v", rr)
		}
		return rr.Cursor, nil
	})
	must(t, err)
	_, err = s.AssignRoundRobin(ctx, chat.NewID(), "", b.newConv(t, s).ID, rotate(agentsA))
	wantCode(t, err, chat.CodeNotFound)
}
