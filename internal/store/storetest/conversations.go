package storetest

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func testCreateConversation(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	got, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if !reflect.DeepEqual(*got, w.conv) {
		t.Fatalf("GetConversation = %+v, want %+v", *got, w.conv)
	}

	tests := []struct {
		name  string
		conv  chat.Conversation
		field string
	}{
		{"foreign agent assignee", chat.Conversation{Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: other.agent.ID}}, "assignee.id"},
		{"bot id as agent", chat.Conversation{Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: w.bot.ID}}, "assignee.id"},
		{"foreign bot", chat.Conversation{Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: other.bot.ID}}, "assignee.id"},
		{"bad assignee type", chat.Conversation{Assignee: &chat.Assignee{Type: "human", ID: w.agent.ID}}, "assignee.type"},
		{"foreign team", chat.Conversation{TeamID: other.team.ID}, "teamId"},
		{"unknown team", chat.Conversation{TeamID: "nope"}, "teamId"},
		{"foreign contact", chat.Conversation{ContactID: other.contact.ID}, "contactId"},
		{"bad status", chat.Conversation{Status: 5}, "status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conv
			c.AppID = w.app.ID
			if c.ContactID == "" {
				c.ContactID = w.contact.ID
			}
			err := s.CreateConversation(ctx, &c)
			var e *chat.Error
			if !errors.As(err, &e) || e.Code != chat.CodeInvalid || e.Details["field"] != tc.field {
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			}
			_, err = s.GetConversation(ctx, w.app.ID, c.ID)
			wantCode(t, err, chat.CodeNotFound)
		})
	}
	noApp := chat.Conversation{AppID: "missing", ContactID: w.contact.ID}
	wantCode(t, s.CreateConversation(ctx, &noApp), chat.CodeNotFound)
}

func testUpdateConversation(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)

	got, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		c.Status = chat.StatusWaiting
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}
		c.Metadata["handoff"] = "yes"
		c.LastSeq = 99 // not fn's to change; ignored
		return nil
	})
	must(t, err)
	if got.Status != chat.StatusWaiting || got.Assignee.ID != w.agent.ID || got.Metadata["handoff"] != "yes" || got.LastSeq != 0 || got.UpdatedAt.Before(w.conv.UpdatedAt) {
		t.Fatalf("UpdateConversation = %+v", got)
	}
	read, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if !reflect.DeepEqual(read, got) {
		t.Fatalf("read back %+v, want %+v", read, got)
	}

	// The store stores; transition rules belong to callers (chat.CheckTransition).
	for _, st := range []chat.Status{chat.StatusResolved, chat.StatusWaiting, chat.StatusSpam, chat.StatusOpen} {
		got, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error { c.Status = st; return nil })
		must(t, err)
		if got.Status != st {
			t.Fatalf("status = %v, want %v", got.Status, st)
		}
	}

	// Unassign and leave the team.
	got, err = s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		c.Assignee, c.TeamID = nil, ""
		return nil
	})
	must(t, err)
	if got.Assignee != nil || got.TeamID != "" {
		t.Fatalf("after unassign: %+v", got)
	}

	before, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	boom := errors.New("boom")
	rejects := []struct {
		name string
		fn   func(c *chat.Conversation) error
		want func(error) bool
	}{
		{"fn error rolls back", func(c *chat.Conversation) error {
			c.Status = chat.StatusSpam
			c.Metadata["x"] = "y"
			return boom
		}, func(err error) bool { return errors.Is(err, boom) }},
		{"foreign assignee", func(c *chat.Conversation) error {
			c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: other.agent.ID}
			return nil
		}, func(err error) bool { return chat.IsCode(err, chat.CodeInvalid) }},
		{"foreign team", func(c *chat.Conversation) error { c.TeamID = other.team.ID; return nil },
			func(err error) bool { return chat.IsCode(err, chat.CodeInvalid) }},
		{"bad status", func(c *chat.Conversation) error { c.Status = 42; return nil },
			func(err error) bool { return chat.IsCode(err, chat.CodeInvalid) }},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, tc.fn)
			if !tc.want(err) {
				t.Fatalf("err = %v", err)
			}
			after, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
			must(t, err)
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("rejected update wrote: %+v, want %+v", after, before)
			}
		})
	}
	_, err = s.UpdateConversation(ctx, w.app.ID, "nope", func(*chat.Conversation) error { return nil })
	wantCode(t, err, chat.CodeNotFound)
}

func testUpdateConversationConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	const workers, each = 16, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
					n, _ := strconv.Atoi(c.Metadata["counter"])
					c.Metadata["counter"] = strconv.Itoa(n + 1)
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if got.Metadata["counter"] != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d: concurrent updates were lost", got.Metadata["counter"], workers*each)
	}
}

func testListConversations(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s) // w.conv: bot-assigned, in the team, open
	agentConv := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, Status: chat.StatusWaiting, Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}}
	must(t, s.CreateConversation(ctx, &agentConv))
	other := chat.Contact{AppID: w.app.ID, Name: "Dan"}
	must(t, s.CreateContact(ctx, &other))
	free := chat.Conversation{AppID: w.app.ID, ContactID: other.ID, Status: chat.StatusResolved}
	must(t, s.CreateConversation(ctx, &free))

	waiting, resolved := chat.StatusWaiting, chat.StatusResolved
	tests := []struct {
		name string
		f    store.ConversationFilter
		want []string
	}{
		{"all newest first", store.ConversationFilter{}, []string{free.ID, agentConv.ID, w.conv.ID}},
		{"status", store.ConversationFilter{Status: &waiting}, []string{agentConv.ID}},
		{"status resolved", store.ConversationFilter{Status: &resolved}, []string{free.ID}},
		{"bots", store.ConversationFilter{AssigneeType: chat.AssigneeBot}, []string{w.conv.ID}},
		{"agents", store.ConversationFilter{AssigneeType: chat.AssigneeAgent}, []string{agentConv.ID}},
		{"one agent", store.ConversationFilter{AssigneeType: chat.AssigneeAgent, AssigneeID: w.agent.ID}, []string{agentConv.ID}},
		{"other agent", store.ConversationFilter{AssigneeID: w.agent2.ID}, nil},
		{"unassigned", store.ConversationFilter{Unassigned: true}, []string{free.ID}},
		{"team", store.ConversationFilter{TeamID: w.team.ID}, []string{w.conv.ID}},
		{"contact", store.ConversationFilter{ContactID: w.contact.ID}, []string{agentConv.ID, w.conv.ID}},
		{"contact and status", store.ConversationFilter{ContactID: other.ID, Status: &waiting}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListConversations(ctx, w.app.ID, tc.f)
			must(t, err)
			var got []string
			for _, c := range page.Conversations {
				got = append(got, c.ID)
			}
			// Ids made in the same millisecond sort randomly, so "newest
			// first" means descending id order.
			sort.Sort(sort.Reverse(sort.StringSlice(tc.want)))
			if !reflect.DeepEqual(got, tc.want) || page.Next != "" {
				t.Fatalf("got %v (next %q), want %v", got, page.Next, tc.want)
			}
		})
	}
	for _, bad := range []string{"%%%", "bm90IGFuIGlk!", "Pz8_Pw"} {
		_, err := s.ListConversations(ctx, w.app.ID, store.ConversationFilter{Cursor: bad})
		var e *chat.Error
		if !errors.As(err, &e) || e.Code != chat.CodeInvalid || e.Details["field"] != "cursor" {
			t.Fatalf("cursor %q: err = %v, want invalid cursor", bad, err)
		}
	}
}

func testPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	all := map[string]bool{w.conv.ID: true}
	for range store.DefaultPageSize + 4 {
		all[w.newConv(t, s).ID] = true
	}
	page, err := s.ListConversations(ctx, w.app.ID, store.ConversationFilter{})
	must(t, err)
	if len(page.Conversations) != store.DefaultPageSize || page.Next == "" {
		t.Fatalf("default page: %d rows, next %q", len(page.Conversations), page.Next)
	}
	page, err = s.ListConversations(ctx, w.app.ID, store.ConversationFilter{Limit: store.MaxPageSize + 1})
	must(t, err)
	if len(page.Conversations) != len(all) || page.Next != "" {
		t.Fatalf("clamped page: %d rows, next %q", len(page.Conversations), page.Next)
	}

	seen := map[string]bool{}
	last := "\xff"
	f := store.ConversationFilter{Limit: 7}
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListConversations(ctx, w.app.ID, f)
		must(t, err)
		for _, c := range page.Conversations {
			if seen[c.ID] {
				t.Fatalf("%s listed twice", c.ID)
			}
			if c.ID >= last {
				t.Fatalf("not newest first: %s after %s", c.ID, last)
			}
			seen[c.ID], last = true, c.ID
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if !reflect.DeepEqual(seen, all) {
		t.Fatalf("pages covered %d rows, want %d", len(seen), len(all))
	}
}
