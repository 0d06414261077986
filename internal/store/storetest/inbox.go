package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// inboxSince returns every inbox event of the app after afterSeq, paging with
// a small limit so that paging itself is exercised.
func inboxSince(t testing.TB, s store.Store, appID string, afterSeq int64) []chat.InboxEvent {
	t.Helper()
	var out []chat.InboxEvent
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("inbox paging does not end")
		}
		page, err := s.ListInboxEvents(context.Background(), appID, afterSeq, 7)
		must(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		afterSeq = page[len(page)-1].Seq
	}
}

func inboxSeq(t testing.TB, s store.Store, appID string) int64 {
	t.Helper()
	n, err := s.InboxSeq(context.Background(), appID)
	must(t, err)
	return n
}

// checkInboxGapFree checks that the app's stream is exactly seqs 1..want.
func checkInboxGapFree(t testing.TB, s store.Store, appID string, want int) []chat.InboxEvent {
	t.Helper()
	events := inboxSince(t, s, appID, 0)
	for i, e := range events {
		if e.Seq != int64(i+1) || e.AppID != appID || e.Conversation.AppID != appID {
			t.Fatalf("inbox event %d: seq %d app %s/%s, want seq %d app %s", i, e.Seq, e.AppID, e.Conversation.AppID, i+1, appID)
		}
	}
	if len(events) != want {
		t.Fatalf("%d inbox events, want %d", len(events), want)
	}
	if got := inboxSeq(t, s, appID); got != int64(want) {
		t.Fatalf("InboxSeq = %d, want %d", got, want)
	}
	return events
}

func testInboxEvents(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)

	// newWorld created w.conv: that is the app's first event.
	events := checkInboxGapFree(t, s, w.app.ID, 1)
	if e := events[0]; e.Kind != chat.InboxCreated || !reflect.DeepEqual(e.Conversation, w.conv) || !e.CreatedAt.Equal(w.conv.CreatedAt) {
		t.Fatalf("create event = %+v, want created %+v", e, w.conv)
	}

	agent := &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}
	boom := errors.New("boom")
	steps := []struct {
		name    string
		fn      func(c *chat.Conversation) error
		wantErr bool
		want    chat.InboxKind // "" means no event
	}{
		{"assign", func(c *chat.Conversation) error { c.Assignee = agent; return nil }, false, chat.InboxAssigned},
		{"same assignee again", func(c *chat.Conversation) error {
			c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}
			return nil
		}, false, ""},
		{"status", func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil }, false, chat.InboxStatusChanged},
		{"assignee and status at once", func(c *chat.Conversation) error {
			c.Status, c.Assignee = chat.StatusOpen, &chat.Assignee{Type: chat.AssigneeBot, ID: w.bot.ID}
			return nil
		}, false, chat.InboxAssigned},
		{"unassign", func(c *chat.Conversation) error { c.Assignee = nil; return nil }, false, chat.InboxAssigned},
		{"team", func(c *chat.Conversation) error { c.TeamID = ""; return nil }, false, chat.InboxUpdated},
		{"metadata added", func(c *chat.Conversation) error { c.Metadata["vip"] = "yes"; return nil }, false, chat.InboxUpdated},
		{"metadata same value", func(c *chat.Conversation) error { c.Metadata["vip"] = "yes"; return nil }, false, ""},
		{"metadata removed", func(c *chat.Conversation) error { delete(c.Metadata, "vip"); return nil }, false, chat.InboxUpdated},
		{"no-op", func(*chat.Conversation) error { return nil }, false, ""},
		{"fn error rolls back", func(c *chat.Conversation) error { c.Status = chat.StatusSpam; return boom }, true, ""},
		{"rejected assignee rolls back", func(c *chat.Conversation) error {
			c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: other.agent.ID}
			return nil
		}, true, ""},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			before := inboxSeq(t, s, w.app.ID)
			got, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, tc.fn)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			events := inboxSince(t, s, w.app.ID, before)
			if tc.want == "" {
				if len(events) != 0 || inboxSeq(t, s, w.app.ID) != before {
					t.Fatalf("got events %+v, want none", events)
				}
				return
			}
			if len(events) != 1 || events[0].Seq != before+1 || events[0].Kind != tc.want {
				t.Fatalf("got events %+v, want one %s at seq %d", events, tc.want, before+1)
			}
			if !reflect.DeepEqual(events[0].Conversation, *got) || !events[0].CreatedAt.Equal(got.UpdatedAt) {
				t.Fatalf("event carries %+v at %v, want the updated %+v", events[0].Conversation, events[0].CreatedAt, *got)
			}
		})
	}

	// A refused create writes no event either.
	before := inboxSeq(t, s, w.app.ID)
	bad := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, TeamID: other.team.ID}
	wantCode(t, s.CreateConversation(ctx, &bad), chat.CodeInvalid)
	if got := inboxSeq(t, s, w.app.ID); got != before {
		t.Fatalf("refused create moved the inbox seq from %d to %d", before, got)
	}
	c := w.newConv(t, s)
	events = inboxSince(t, s, w.app.ID, before)
	if len(events) != 1 || events[0].Kind != chat.InboxCreated || events[0].Conversation.ID != c.ID || events[0].Seq != before+1 {
		t.Fatalf("after create: %+v", events)
	}

	// Limits are clamped like every list.
	for range store.MaxPageSize {
		_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
			n, _ := strconv.Atoi(c.Metadata["n"])
			c.Metadata["n"] = strconv.Itoa(n + 1)
			return nil
		})
		must(t, err)
	}
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultPageSize}, {-1, store.DefaultPageSize}, {3, 3}, {store.MaxPageSize + 1, store.MaxPageSize}} {
		page, err := s.ListInboxEvents(ctx, w.app.ID, 0, tc.limit)
		must(t, err)
		if len(page) != tc.want {
			t.Fatalf("limit %d: %d events, want %d", tc.limit, len(page), tc.want)
		}
	}
	page, err := s.ListInboxEvents(ctx, w.app.ID, inboxSeq(t, s, w.app.ID), 10)
	must(t, err)
	if page == nil || len(page) != 0 {
		t.Fatalf("past the end: %#v, want empty and non-nil", page)
	}
}

// testInboxSeqConcurrent races creates, updates and message appends in one
// app: the stream must still be 1..N with one event per change. On
// PostgreSQL this is also the check that inbox numbering (app row lock) and
// the message group commit (conversation row locks) cannot deadlock.
func testInboxSeqConcurrent(t *testing.T, s store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := newWorld(t, s)
	convs := []string{w.conv.ID}
	for range 3 {
		convs = append(convs, w.newConv(t, s).ID)
	}
	const workers, each = 8, 8
	var wg sync.WaitGroup
	errs := make(chan error, 3*workers*each)
	for g := range workers {
		wg.Add(3)
		go func() { // updates that always change metadata, so each is an event
			defer wg.Done()
			for i := range each {
				_, err := s.UpdateConversation(ctx, w.app.ID, convs[(g+i)%len(convs)], func(c *chat.Conversation) error {
					c.Metadata["last"] = fmt.Sprintf("%d-%d", g, i)
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each / 4 {
				c := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID}
				if err := s.CreateConversation(ctx, &c); err != nil {
					errs <- err
				}
			}
		}()
		go func() { // appends lock the same conversation rows
			defer wg.Done()
			for i := range each {
				if _, _, err := s.AppendMessage(ctx, w.app.ID, convs[(g+i+1)%len(convs)], w.contactSays("hi")); err != nil {
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
	created := 1 + 3 + workers*(each/4)
	events := checkInboxGapFree(t, s, w.app.ID, created+workers*each)
	kinds := map[chat.InboxKind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	if kinds[chat.InboxCreated] != created || kinds[chat.InboxUpdated] != workers*each {
		t.Fatalf("event kinds = %v, want %d created and %d updated", kinds, created, workers*each)
	}
}

func testLastSeqs(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	quiet := w.newConv(t, s)
	for i := range 3 {
		_, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("m"+strconv.Itoa(i)))
		must(t, err)
	}
	_, _, err := s.AppendMessage(ctx, other.app.ID, other.conv.ID, other.contactSays("theirs"))
	must(t, err)

	// More ids than one SQL statement takes at once on SQLite.
	many := []string{w.conv.ID}
	for i := range 1200 {
		many = append(many, "unknown"+strconv.Itoa(i))
	}
	many = append(many, quiet.ID)

	tests := []struct {
		name string
		ids  []string
		want map[string]int64
	}{
		{"none", nil, map[string]int64{}},
		{"mine", []string{w.conv.ID, quiet.ID}, map[string]int64{w.conv.ID: 3, quiet.ID: 0}},
		{"repeated id", []string{w.conv.ID, w.conv.ID}, map[string]int64{w.conv.ID: 3}},
		{"unknown and foreign are absent", []string{"nope", other.conv.ID, quiet.ID}, map[string]int64{quiet.ID: 0}},
		{"many", many, map[string]int64{w.conv.ID: 3, quiet.ID: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.LastSeqs(ctx, w.app.ID, tc.ids)
			must(t, err)
			if got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("LastSeqs = %#v, want %v", got, tc.want)
			}
		})
	}
}

func testNodeConnections(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	n1, n2, n3 := "node1-"+unique(), "node2-"+unique(), "node3-"+unique()
	ann := store.AgentRef{AppID: w.app.ID, AgentID: w.agent.ID}
	bob := store.AgentRef{AppID: w.app.ID, AgentID: w.agent2.ID}
	stranger := store.AgentRef{AppID: other.app.ID, AgentID: other.agent.ID}
	later := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Second)

	steps := []struct {
		name      string
		node      string
		agents    []store.AgentRef
		expires   time.Time
		want      []string // w's connected agents after the step
		wantOther []string
	}{
		{"empty at first", n1, nil, later, nil, nil},
		{"one node, two agents", n1, []store.AgentRef{ann, bob}, later, []string{w.agent.ID, w.agent2.ID}, nil},
		{"second node, same agent", n2, []store.AgentRef{ann}, later, []string{w.agent.ID, w.agent2.ID}, nil},
		{"replace drops the rest", n1, []store.AgentRef{bob}, later, []string{w.agent.ID, w.agent2.ID}, nil},
		{"empty list clears", n1, nil, later, []string{w.agent.ID}, nil},
		{"expired rows do not count", n2, []store.AgentRef{ann}, past, nil, nil},
		{"duplicates are one", n1, []store.AgentRef{bob, bob, ann}, later, []string{w.agent.ID, w.agent2.ID}, nil},
		{"other app's agents stay there", n3, []store.AgentRef{stranger}, later, []string{w.agent.ID, w.agent2.ID}, []string{other.agent.ID}},
		{"a node may hold several apps", n3, []store.AgentRef{stranger, bob}, later, []string{w.agent.ID, w.agent2.ID}, []string{other.agent.ID}},
		{"clearing one node leaves the others", n1, nil, later, []string{w.agent2.ID}, []string{other.agent.ID}},
	}
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			must(t, s.SetNodeConnections(ctx, tc.node, tc.agents, tc.expires))
			for _, c := range []struct {
				app  string
				want []string
			}{{w.app.ID, tc.want}, {other.app.ID, tc.wantOther}} {
				got, err := s.ConnectedAgents(ctx, c.app)
				must(t, err)
				want := sortedIDs(c.want)
				if got == nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("ConnectedAgents(%s) = %#v, want %v", c.app, got, want)
				}
			}
		})
	}

	// Rows lapse on their own when their node stops refreshing them.
	must(t, s.SetNodeConnections(ctx, n2, []store.AgentRef{ann}, time.Now().Add(300*time.Millisecond)))
	got, err := s.ConnectedAgents(ctx, w.app.ID)
	must(t, err)
	if !reflect.DeepEqual(got, sortedIDs([]string{w.agent.ID, w.agent2.ID})) {
		t.Fatalf("before expiry: %v", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err = s.ConnectedAgents(ctx, w.app.ID)
		must(t, err)
		if reflect.DeepEqual(got, []string{w.agent2.ID}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after expiry: %v, want only %s", got, w.agent2.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}

	wantCode(t, s.SetNodeConnections(ctx, "", []store.AgentRef{ann}, later), chat.CodeInvalid)
	got, err = s.ConnectedAgents(ctx, "no-such-app")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("unknown app: %v", got)
	}
}

func sortedIDs(ids []string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// testInboxTenantIsolation: every new read is scoped by app.
func testInboxTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newWorld(t, s)
	b := newWorld(t, s)
	_, err := s.UpdateConversation(ctx, a.app.ID, a.conv.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil })
	must(t, err)
	// An update through app B's id changes nothing and numbers nothing.
	_, err = s.UpdateConversation(ctx, b.app.ID, a.conv.ID, func(c *chat.Conversation) error { c.Status = chat.StatusSpam; return nil })
	wantCode(t, err, chat.CodeNotFound)

	checkInboxGapFree(t, s, a.app.ID, 2)
	events := checkInboxGapFree(t, s, b.app.ID, 1)
	if events[0].Conversation.ID != b.conv.ID {
		t.Fatalf("app B's inbox shows %s", events[0].Conversation.ID)
	}
	_, err = s.InboxSeq(ctx, "no-such-app")
	wantCode(t, err, chat.CodeNotFound)
	none, err := s.ListInboxEvents(ctx, "no-such-app", 0, 10)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("unknown app's inbox: %+v", none)
	}

	seqs, err := s.LastSeqs(ctx, b.app.ID, []string{a.conv.ID})
	must(t, err)
	if len(seqs) != 0 {
		t.Fatalf("app B sees app A's conversation: %v", seqs)
	}

	must(t, s.SetNodeConnections(ctx, "n-"+unique(), []store.AgentRef{{AppID: a.app.ID, AgentID: a.agent.ID}}, time.Now().Add(time.Hour)))
	ids, err := s.ConnectedAgents(ctx, b.app.ID)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("app B sees app A's agents online: %v", ids)
	}
}
