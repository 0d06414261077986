package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// RunDashboard is the suite for what the dashboard adds to the store:
// invitations, a conversation's last handoff, canned replies and the bot's
// last intent.
func RunDashboard(t *testing.T, open func(t *testing.T, clock store.Clock) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock)
	}{
		{"Invites", testInvites},
		{"InviteExpiry", testInviteExpiry},
		{"InviteOnce", testInviteOnce},
		{"InviteTenantIsolation", testInviteTenantIsolation},
		{"LastHandoff", testLastHandoff},
		{"ListInbox", testListInbox},
		{"Notes", testNotes},
		{"CannedReplies", testCannedReplies},
		{"CannedRepliesCap", testCannedRepliesCap},
		{"BotIntent", testBotIntent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Clock{}
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

func newInvite(w *world, email string) *store.Invite {
	return &store.Invite{AppID: w.app.ID, Email: email, Role: chat.RoleAgent, TokenHash: []byte("tok-" + unique()),
		CreatedBy: w.agent.ID, ExpiresAt: time.Now().Add(time.Hour)}
}

func testInvites(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	inv := newInvite(w, "")
	must(t, s.CreateInvite(ctx, inv))
	if inv.ID == "" || inv.CreatedAt.IsZero() {
		t.Fatalf("CreateInvite did not fill id and time: %+v", inv)
	}
	dup := newInvite(w, "")
	dup.TokenHash = inv.TokenHash
	wantCode(t, s.CreateInvite(ctx, dup), chat.CodeConflict)

	got, err := s.InviteByTokenHash(ctx, inv.TokenHash)
	must(t, err)
	if got.ID != inv.ID || got.AppID != w.app.ID || got.Role != chat.RoleAgent || got.AcceptedAt != nil {
		t.Fatalf("InviteByTokenHash = %+v", got)
	}
	list, err := s.ListInvites(ctx, w.app.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != inv.ID {
		t.Fatalf("ListInvites = %+v", list)
	}

	a := &chat.Agent{Email: "invitee-" + unique() + "@example.com", Name: "Invitee", PasswordHash: "h"}
	must(t, s.AcceptInvite(ctx, inv.TokenHash, a))
	if a.AppID != w.app.ID || a.Role != chat.RoleAgent || a.ID == "" {
		t.Fatalf("accepted agent = %+v", a)
	}
	stored, err := s.GetAgent(ctx, w.app.ID, a.ID)
	must(t, err)
	if stored.Email != a.Email || stored.Role != chat.RoleAgent {
		t.Fatalf("stored agent = %+v", stored)
	}
	_, err = s.InviteByTokenHash(ctx, inv.TokenHash)
	wantCode(t, err, chat.CodeNotFound)
	list, err = s.ListInvites(ctx, w.app.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("ListInvites after acceptance = %+v", list)
	}
	// A used invitation cannot be deleted either: it is history now.
	wantCode(t, s.DeleteInvite(ctx, w.app.ID, inv.ID), chat.CodeNotFound)

	open := newInvite(w, "")
	must(t, s.CreateInvite(ctx, open))
	must(t, s.DeleteInvite(ctx, w.app.ID, open.ID))
	wantCode(t, s.AcceptInvite(ctx, open.TokenHash, &chat.Agent{Email: "x-" + unique() + "@example.com", Name: "X", PasswordHash: "h"}), chat.CodeNotFound)
}

// An email already taken fails the acceptance and leaves the invitation
// usable: the claim and the agent are one transaction.
func testInviteOnce(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	inv := newInvite(w, "")
	must(t, s.CreateInvite(ctx, inv))
	taken := &chat.Agent{Email: w.agent.Email, Name: "Dup", PasswordHash: "h"}
	wantCode(t, s.AcceptInvite(ctx, inv.TokenHash, taken), chat.CodeConflict)
	if _, err := s.InviteByTokenHash(ctx, inv.TokenHash); err != nil {
		t.Fatalf("a failed acceptance used up the invitation: %v", err)
	}

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AcceptInvite(ctx, inv.TokenHash, &chat.Agent{Email: "race-" + unique() + "@example.com", Name: "Racer", PasswordHash: "h"})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !chat.IsCode(err, chat.CodeNotFound) && !chat.IsCode(err, chat.CodeConflict) && !chat.IsCode(err, chat.CodeUnavailable):
			t.Errorf("concurrent accept: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent acceptances succeeded, want exactly 1", ok, n)
	}
	agents, err := s.ListAgents(ctx, w.app.ID)
	must(t, err)
	racers := 0
	for _, a := range agents {
		if a.Name == "Racer" {
			racers++
		}
	}
	if racers != 1 {
		t.Fatalf("%d agents created from one invitation", racers)
	}
}

func testInviteExpiry(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	inv := newInvite(w, "fixed-"+unique()+"@example.com")
	must(t, s.CreateInvite(ctx, inv))
	c.Advance(2 * time.Hour)
	_, err := s.InviteByTokenHash(ctx, inv.TokenHash)
	wantCode(t, err, chat.CodeNotFound)
	list, err := s.ListInvites(ctx, w.app.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("expired invitation listed: %+v", list)
	}
	wantCode(t, s.AcceptInvite(ctx, inv.TokenHash, &chat.Agent{Email: inv.Email, Name: "Late", PasswordHash: "h"}), chat.CodeNotFound)
}

func testInviteTenantIsolation(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	inv := newInvite(w, "")
	must(t, s.CreateInvite(ctx, inv))
	list, err := s.ListInvites(ctx, other.app.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another app sees the invitation: %+v", list)
	}
	wantCode(t, s.DeleteInvite(ctx, other.app.ID, inv.ID), chat.CodeNotFound)
	if _, err := s.InviteByTokenHash(ctx, inv.TokenHash); err != nil {
		t.Fatal(err)
	}
	bad := newInvite(w, "")
	bad.AppID = "no-such-app"
	wantCode(t, s.CreateInvite(ctx, bad), chat.CodeNotFound)
}

func testLastHandoff(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	if _, ok, err := s.LastHandoff(ctx, w.app.ID, w.conv.ID); err != nil || ok {
		t.Fatalf("LastHandoff before any = %v, %v", ok, err)
	}
	for i, reason := range []string{"bot_gave_up", "contact_asked"} {
		_, err := s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.HandoffKey(unique()), Kind: chat.AnalyticsHandedOff,
			ConversationID: w.conv.ID, BotID: w.bot.ID, Reason: reason, Intent: []string{"Fallback", "TalkToHuman"}[i]})
		must(t, err)
		c.Advance(time.Second)
	}
	// Not a handoff: must not be picked even though it is the newest.
	_, err := s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.CSATKey(w.conv.ID), Kind: chat.AnalyticsCSAT, ConversationID: w.conv.ID, Value: 5})
	must(t, err)
	e, ok, err := s.LastHandoff(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if !ok || e.Reason != "contact_asked" || e.Intent != "TalkToHuman" || e.BotID != w.bot.ID {
		t.Fatalf("LastHandoff = %+v, %v", e, ok)
	}
	if _, ok, err := s.LastHandoff(ctx, other.app.ID, w.conv.ID); err != nil || ok {
		t.Fatalf("another app reads the handoff: %v, %v", ok, err)
	}
}

func testListInbox(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	mk := func(name, email string, st chat.Status, a *chat.Assignee) chat.Conversation {
		ct := chat.Contact{AppID: w.app.ID, Name: name, Email: email}
		must(t, s.CreateContact(ctx, &ct))
		c := chat.Conversation{AppID: w.app.ID, ContactID: ct.ID, Status: st, Assignee: a}
		must(t, s.CreateConversation(ctx, &c))
		return c
	}
	mine := &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}
	dana := mk("Dana Díaz", "dana@example.com", chat.StatusOpen, mine)
	waiting := mk("Eve 100%", "eve@example.com", chat.StatusWaiting, nil)
	resolved := mk("Frank", "frank@example.com", chat.StatusResolved, mine)
	unresp := mk("Gus_x", "gus@example.com", chat.StatusUnresponded, nil)

	ids := func(p store.InboxPage) []string {
		out := []string{}
		for _, it := range p.Items {
			if it.Contact.ID != it.Conversation.ContactID {
				t.Fatalf("item's contact %q is not the conversation's %q", it.Contact.ID, it.Conversation.ContactID)
			}
			out = append(out, it.Conversation.ID)
		}
		return out
	}
	open := []chat.Status{chat.StatusOpen, chat.StatusUnresponded, chat.StatusWaiting}
	for _, tc := range []struct {
		name string
		q    store.InboxQuery
		want []string
	}{
		{"all", store.InboxQuery{}, []string{unresp.ID, resolved.ID, waiting.ID, dana.ID, w.conv.ID}},
		{"mine open", store.InboxQuery{Statuses: open, AssigneeType: chat.AssigneeAgent, AssigneeID: w.agent.ID}, []string{dana.ID}},
		{"unassigned open", store.InboxQuery{Statuses: open, Unassigned: true}, []string{unresp.ID, waiting.ID}},
		{"bot", store.InboxQuery{AssigneeType: chat.AssigneeBot}, []string{w.conv.ID}},
		{"resolved", store.InboxQuery{Statuses: []chat.Status{chat.StatusResolved}}, []string{resolved.ID}},
		{"search name, any case", store.InboxQuery{Search: "dAnA"}, []string{dana.ID}},
		{"search email part", store.InboxQuery{Search: "frank@"}, []string{resolved.ID}},
		{"search percent is literal", store.InboxQuery{Search: "100%"}, []string{waiting.ID}},
		{"search underscore is literal", store.InboxQuery{Search: "s_x"}, []string{unresp.ID}},
		{"search conversation id", store.InboxQuery{Search: dana.ID}, []string{dana.ID}},
		{"search with a filter", store.InboxQuery{Search: "example.com", Statuses: []chat.Status{chat.StatusResolved}}, []string{resolved.ID}},
		{"search another app's contact", store.InboxQuery{Search: other.contact.Name + "-none"}, []string{}},
		{"team", store.InboxQuery{TeamID: w.team.ID}, []string{w.conv.ID}},
	} {
		p, err := s.ListInbox(ctx, w.app.ID, tc.q)
		must(t, err)
		if got := ids(p); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Pages follow each other with no gap or repeat.
	var seen []string
	q := store.InboxQuery{Limit: 2}
	for range 5 {
		p, err := s.ListInbox(ctx, w.app.ID, q)
		must(t, err)
		seen = append(seen, ids(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if want := []string{unresp.ID, resolved.ID, waiting.ID, dana.ID, w.conv.ID}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("paged = %v, want %v", seen, want)
	}
	_, err := s.ListInbox(ctx, w.app.ID, store.InboxQuery{Cursor: "%%%"})
	wantCode(t, err, chat.CodeInvalid)

	p, err := s.ListInbox(ctx, other.app.ID, store.InboxQuery{Search: "dana"})
	must(t, err)
	if len(p.Items) != 0 {
		t.Fatalf("another app finds this app's conversation: %v", ids(p))
	}
}

func testNotes(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	notes, err := s.ListNotes(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if len(notes) != 0 {
		t.Fatalf("notes before any = %+v", notes)
	}
	for _, text := range []string{"VIP, be nice", "refund approved"} {
		n := store.Note{AppID: w.app.ID, ConversationID: w.conv.ID, AgentID: w.agent.ID, Text: text}
		must(t, s.AddNote(ctx, &n))
		if n.ID == "" || n.CreatedAt.IsZero() {
			t.Fatalf("AddNote left id or time empty: %+v", n)
		}
		c.Advance(time.Millisecond)
	}
	notes, err = s.ListNotes(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if len(notes) != 2 || notes[0].Text != "VIP, be nice" || notes[1].Text != "refund approved" || notes[0].AgentID != w.agent.ID {
		t.Fatalf("ListNotes = %+v", notes)
	}
	// Another app can neither write to nor read this conversation's notes.
	wantCode(t, s.AddNote(ctx, &store.Note{AppID: other.app.ID, ConversationID: w.conv.ID, AgentID: other.agent.ID, Text: "x"}), chat.CodeNotFound)
	notes, err = s.ListNotes(ctx, other.app.ID, w.conv.ID)
	must(t, err)
	if len(notes) != 0 {
		t.Fatalf("another app reads the notes: %+v", notes)
	}
	// Notes are not messages.
	msgs, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 0, 100)
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("a note became a message: %+v", msgs)
	}
}
