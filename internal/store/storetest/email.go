package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// emailWorld is a world whose contact has an email, with one conversation
// assigned to the agent where the agent wrote twice, unread.
func emailWorld(t *testing.T, s store.Store) (*world, chat.Conversation) {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t, s)
	addr := "c" + unique() + "@example.com"
	_, err := s.UpdateContact(ctx, w.app.ID, w.contact.ID, store.ContactUpdate{Email: &addr})
	must(t, err)
	w.contact.Email = addr
	c := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}}
	must(t, s.CreateConversation(ctx, &c))
	for _, m := range []chat.NewMessage{w.contactSays("hi"), text(chat.Sender{Type: chat.SenderAgent, ID: w.agent.ID}, "one"), text(chat.Sender{Type: chat.SenderAgent, ID: w.agent.ID}, "two")} {
		_, _, err := s.AppendMessage(ctx, w.app.ID, c.ID, m)
		must(t, err)
	}
	return w, c
}

// upTo is the window of every unread message posted before t.
func upTo(t time.Time) store.UnreadWindow { return store.UnreadWindow{Before: t} }

// testContactRead: the read position only moves forward, must name a
// message, and is the app's own.
func testContactRead(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, c := emailWorld(t, s)
	for _, step := range []struct{ seq, want int64 }{{2, 2}, {1, 2}, {3, 3}, {2, 3}} {
		got, err := s.MarkContactRead(ctx, w.app.ID, c.ID, step.seq)
		must(t, err)
		if got != step.want {
			t.Fatalf("read %d: stored %d, want %d", step.seq, got, step.want)
		}
	}
	for _, bad := range []int64{0, -1, 4} {
		_, err := s.MarkContactRead(ctx, w.app.ID, c.ID, bad)
		wantCode(t, err, chat.CodeInvalid)
	}
	other := newWorld(t, s)
	_, err := s.MarkContactRead(ctx, other.app.ID, c.ID, 1)
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.ContactReadSeq(ctx, other.app.ID, c.ID)
	wantCode(t, err, chat.CodeNotFound)
	if got, err := s.ContactReadSeq(ctx, w.app.ID, c.ID); err != nil || got != 3 {
		t.Fatalf("ContactReadSeq = %d, %v; want 3", got, err)
	}
	if got, err := s.ContactReadSeq(ctx, w.app.ID, w.conv.ID); err != nil || got != 0 {
		t.Fatalf("ContactReadSeq of an unread conversation = %d, %v; want 0", got, err)
	}
}

// testContactEmailLease: a claim holds the email off other claimers until
// its lease expires; then the next claim takes it over with a new token
// (one more attempt), and the old holder can no longer finish it.
func testContactEmailLease(t *testing.T, s store.Store, clk *Clock) {
	ctx := context.Background()
	w, c := emailWorld(t, s)
	ref := store.ConversationRef{AppID: w.app.ID, ConversationID: c.ID}
	if claim, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now().Add(-time.Minute)), time.Minute); err != nil || claim != nil {
		t.Fatalf("claimed before the delay: %+v, %v", claim, err)
	}
	clk.Advance(10 * time.Minute)
	before := clk.Now().Add(-5 * time.Minute)
	due, err := s.DueContactEmails(ctx, upTo(before), store.MaxPageSize)
	must(t, err)
	if !slices.Contains(due, ref) {
		t.Fatalf("due %v lacks %v", due, ref)
	}
	first, err := s.ClaimContactEmail(ctx, ref, upTo(before), time.Minute)
	must(t, err)
	if first == nil || first.Attempt != 1 || len(first.Messages) != 2 || first.Messages[0].Text != "one" || first.Contact.Email != w.contact.Email {
		t.Fatalf("first claim %+v", first)
	}
	if again, err := s.ClaimContactEmail(ctx, ref, upTo(before), time.Minute); err != nil || again != nil {
		t.Fatalf("a held email was claimed again: %+v, %v", again, err)
	}
	due, err = s.DueContactEmails(ctx, upTo(before), store.MaxPageSize)
	must(t, err)
	if slices.Contains(due, ref) {
		t.Fatal("a held email is listed as due")
	}
	wantCode(t, s.FinishContactEmail(ctx, ref, "not-the-token", true, time.Time{}), chat.CodeConflict)
	clk.Advance(2 * time.Minute)
	second, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now().Add(-5*time.Minute)), time.Minute)
	must(t, err)
	if second == nil || second.Token == first.Token || second.Attempt != 2 {
		t.Fatalf("takeover claim %+v", second)
	}
	wantCode(t, s.FinishContactEmail(ctx, ref, first.Token, true, time.Time{}), chat.CodeConflict)
	// A failure holds the next claim back until retryAt.
	must(t, s.FinishContactEmail(ctx, ref, second.Token, false, clk.Now().Add(time.Minute)))
	if held, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now()), time.Minute); err != nil || held != nil {
		t.Fatalf("claimed before retryAt: %+v, %v", held, err)
	}
	clk.Advance(2 * time.Minute)
	third, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now()), time.Minute)
	must(t, err)
	if third == nil || third.Attempt != 3 {
		t.Fatalf("retry claim %+v", third)
	}
	must(t, s.FinishContactEmail(ctx, ref, third.Token, true, time.Time{}))
	if done, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now()), time.Minute); err != nil || done != nil {
		t.Fatalf("a sent email was claimed again: %+v, %v", done, err)
	}
	// The next agent message is a new email, its first attempt.
	_, _, err = s.AppendMessage(ctx, w.app.ID, c.ID, text(chat.Sender{Type: chat.SenderAgent, ID: w.agent.ID}, "three"))
	must(t, err)
	clk.Advance(10 * time.Minute)
	next, err := s.ClaimContactEmail(ctx, ref, upTo(clk.Now().Add(-5*time.Minute)), time.Minute)
	must(t, err)
	if next == nil || next.Attempt != 1 || len(next.Messages) != 1 || next.Messages[0].Text != "three" {
		t.Fatalf("next email's claim %+v", next)
	}
	must(t, s.FinishContactEmail(ctx, ref, next.Token, false, clk.Now()))
	// Messages older than the window's start are not emailed at all.
	late := store.UnreadWindow{From: clk.Now().Add(-time.Minute), Before: clk.Now()}
	due, err = s.DueContactEmails(ctx, late, store.MaxPageSize)
	must(t, err)
	if slices.Contains(due, ref) {
		t.Fatal("a message older than the window is listed as due")
	}
	if stale, err := s.ClaimContactEmail(ctx, ref, late, time.Minute); err != nil || stale != nil {
		t.Fatalf("a message older than the window was claimed: %+v, %v", stale, err)
	}
}

// testEmailTenantIsolation: another app's ids claim nothing, record
// nothing and list nothing.
func testEmailTenantIsolation(t *testing.T, s store.Store, clk *Clock) {
	ctx := context.Background()
	w, c := emailWorld(t, s)
	other := newWorld(t, s)
	clk.Advance(time.Hour)
	now := clk.Now()
	foreign := store.ConversationRef{AppID: other.app.ID, ConversationID: c.ID}
	if claim, err := s.ClaimContactEmail(ctx, foreign, upTo(now), time.Minute); err != nil || claim != nil {
		t.Fatalf("another app claimed the email: %+v, %v", claim, err)
	}
	// The failed foreign claim left nothing behind: the owner claims it.
	own, err := s.ClaimContactEmail(ctx, store.ConversationRef{AppID: w.app.ID, ConversationID: c.ID}, upTo(now), time.Minute)
	must(t, err)
	if own == nil || own.Attempt != 1 {
		t.Fatalf("own claim after a foreign one: %+v", own)
	}
	wantCode(t, s.FinishContactEmail(ctx, foreign, own.Token, true, time.Time{}), chat.CodeConflict)

	// Offline agents: another app's agent ids are not recorded.
	must(t, s.ObserveAgents(ctx, other.app.ID, []string{w.agent.ID}, nil))
	clk.Advance(time.Hour)
	ids, err := s.OfflineAgents(ctx, other.app.ID, clk.Now())
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("another app lists %v offline", ids)
	}
	if claim, err := s.ClaimAgentDigest(ctx, other.app.ID, w.agent.ID, clk.Now(), time.Minute); err != nil || claim != nil {
		t.Fatalf("another app claimed a digest: %+v, %v", claim, err)
	}
}

// testAgentDigest: an agent offline long enough is listed and their
// digest lists the conversations whose contact waits; once done, the same
// messages are not listed again; online again, the agent is not listed.
func testAgentDigest(t *testing.T, s store.Store, clk *Clock) {
	ctx := context.Background()
	w, answered := emailWorld(t, s)
	waiting := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}}
	must(t, s.CreateConversation(ctx, &waiting))
	for _, m := range []string{"a", "b"} {
		_, _, err := s.AppendMessage(ctx, w.app.ID, waiting.ID, w.contactSays(m))
		must(t, err)
	}
	must(t, s.ObserveAgents(ctx, w.app.ID, []string{w.agent.ID}, []string{w.agent2.ID}))
	if ids, err := s.OfflineAgents(ctx, w.app.ID, clk.Now().Add(-time.Minute)); err != nil || len(ids) != 0 {
		t.Fatalf("offline too early: %v, %v", ids, err)
	}
	clk.Advance(10 * time.Minute)
	// Observing again keeps the first offline time.
	must(t, s.ObserveAgents(ctx, w.app.ID, []string{w.agent.ID}, nil))
	before := clk.Now().Add(-5 * time.Minute)
	ids, err := s.OfflineAgents(ctx, w.app.ID, before)
	must(t, err)
	if !slices.Equal(ids, []string{w.agent.ID}) {
		t.Fatalf("offline agents %v, want only %s", ids, w.agent.ID)
	}
	claim, err := s.ClaimAgentDigest(ctx, w.app.ID, w.agent.ID, before, time.Minute)
	must(t, err)
	if claim == nil || len(claim.Items) != 1 || claim.Items[0].ConversationID != waiting.ID || claim.Items[0].Waiting != 2 || claim.Items[0].UpToSeq != 2 || claim.Items[0].ContactName != "Carol" {
		t.Fatalf("digest claim %+v (answered conversation %s)", claim, answered.ID)
	}
	if again, err := s.ClaimAgentDigest(ctx, w.app.ID, w.agent.ID, before, time.Minute); err != nil || again != nil {
		t.Fatalf("a held digest was claimed again: %+v, %v", again, err)
	}
	must(t, s.FinishAgentDigest(ctx, claim, true, time.Time{}))
	wantCode(t, s.FinishAgentDigest(ctx, claim, true, time.Time{}), chat.CodeConflict)
	if again, err := s.ClaimAgentDigest(ctx, w.app.ID, w.agent.ID, before, time.Minute); err != nil || again != nil {
		t.Fatalf("the same messages were listed again: %+v, %v", again, err)
	}
	_, _, err = s.AppendMessage(ctx, w.app.ID, waiting.ID, w.contactSays("c"))
	must(t, err)
	next, err := s.ClaimAgentDigest(ctx, w.app.ID, w.agent.ID, before, time.Minute)
	must(t, err)
	if next == nil || len(next.Items) != 1 || next.Items[0].Waiting != 1 || next.Items[0].UpToSeq != 3 {
		t.Fatalf("digest after a new message %+v", next)
	}
	must(t, s.FinishAgentDigest(ctx, next, false, clk.Now().Add(time.Minute)))
	// Back online: not listed, and nothing to claim.
	must(t, s.ObserveAgents(ctx, w.app.ID, nil, []string{w.agent.ID}))
	clk.Advance(time.Hour)
	if ids, err := s.OfflineAgents(ctx, w.app.ID, clk.Now()); err != nil || len(ids) != 0 {
		t.Fatalf("online agent listed offline: %v, %v", ids, err)
	}
	if c, err := s.ClaimAgentDigest(ctx, w.app.ID, w.agent.ID, clk.Now(), time.Minute); err != nil || c != nil {
		t.Fatalf("online agent's digest claimed: %+v, %v", c, err)
	}
}
