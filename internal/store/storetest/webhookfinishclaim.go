package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// testFinishAndClaim: storing outcomes claims, in the same call, the next
// due delivery of each conversation finished, and nothing else: not a
// conversation whose head is held back by a retry, not another
// conversation's head, and nothing when the call is refused.
func testFinishAndClaim(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.MessageCreated)
	b, other := w.newConv(t, s), w.newConv(t, s)
	w.says(t, s, w.conv.ID, 3)
	w.says(t, s, b.ID, 2)
	w.says(t, s, other.ID, 1)
	heads := claimDeliveries(t, s, 2)
	if len(heads) != 2 || heads[0].ConversationID != w.conv.ID || heads[1].ConversationID != b.ID {
		t.Fatalf("claimed %+v, want the heads of the first two conversations", heads)
	}
	ok := webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 204}}
	finish := func(d webhook.Delivery, o webhook.Outcome) webhook.Finish {
		return webhook.Finish{DeliveryID: d.ID, Token: d.LeaseToken, Outcome: o}
	}

	// Refused arguments write nothing: the heads are still held.
	for _, bad := range []struct {
		node  string
		lease time.Duration
		limit int
	}{{"node1", lease, 0}, {"node1", 0, 5}, {"", lease, 5}, {"no such\x00node", lease, 5}} {
		_, _, err := s.FinishAndClaimWebhookDeliveries(ctx, []webhook.Finish{finish(heads[0], ok)}, bad.node, bad.lease, bad.limit)
		wantCode(t, err, chat.CodeInvalid)
	}

	// The first conversation's head succeeds and the second's fails with
	// a retry a minute away: only the first conversation's next event is
	// claimed, though the third conversation's head is due too.
	retry := webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 500}, RetryAt: c.Now().Add(time.Minute)}
	rs, next, err := s.FinishAndClaimWebhookDeliveries(ctx, []webhook.Finish{finish(heads[0], ok), finish(heads[1], retry)}, "node1", lease, 5)
	must(t, err)
	if len(rs) != 2 || rs[0].Err != nil || rs[1].Err != nil {
		t.Fatalf("results %+v", rs)
	}
	if len(next) != 1 || next[0].ConversationID != w.conv.ID || next[0].ID == heads[0].ID || next[0].State != webhook.DeliveryRunning ||
		next[0].Attempts != 1 || next[0].LeaseToken == "" || len(next[0].Event.Body) == 0 || next[0].Endpoint.URL == "" {
		t.Fatalf("claimed %+v, want the first conversation's second event, leased", next)
	}

	// A stale token is refused, changes nothing and claims nothing.
	rs, none, err := s.FinishAndClaimWebhookDeliveries(ctx, []webhook.Finish{finish(heads[0], ok)}, "node1", lease, 5)
	must(t, err)
	if len(none) != 0 || !chat.IsCode(rs[0].Err, chat.CodeConflict) {
		t.Fatalf("a finished delivery finished again: %+v, claimed %+v", rs, none)
	}

	// The conversation's third event follows its second.
	rs, none, err = s.FinishAndClaimWebhookDeliveries(ctx, []webhook.Finish{finish(next[0], ok)}, "node1", lease, 1)
	must(t, err)
	if rs[0].Err != nil || len(none) != 1 {
		t.Fatalf("results %+v, claimed %+v: want the third event", rs, none)
	}
	last := none[0]
	_, none, err = s.FinishAndClaimWebhookDeliveries(ctx, []webhook.Finish{finish(last, ok)}, "node1", lease, 1)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("claimed %+v after the conversation's last event", none)
	}

	// What was left behind is still there for a claim: the other
	// conversation's head now, the retry once it is due.
	rest := claimDeliveries(t, s, 10)
	if len(rest) != 1 || rest[0].ConversationID != other.ID {
		t.Fatalf("claimed %+v, want the other conversation's head", rest)
	}
	_, err = s.FinishWebhookDelivery(ctx, rest[0].ID, rest[0].LeaseToken, ok)
	must(t, err)
	c.Advance(2 * time.Minute)
	rest = claimDeliveries(t, s, 10)
	if len(rest) != 1 || rest[0].ID != heads[1].ID || rest[0].Attempts != 2 {
		t.Fatalf("claimed %d (first %+v), want the retry of %s", len(rest), rest[0].ID, heads[1].ID)
	}
}
