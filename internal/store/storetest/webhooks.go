package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// RunWebhooks is the suite for outgoing webhooks: endpoints, the outbox
// written with each change, and the leased delivery queue.
func RunWebhooks(t *testing.T, open func(t *testing.T, clock store.Clock) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock)
	}{
		{"Endpoints", testWebhookEndpoints},
		{"OutboxMessages", testOutboxMessages},
		{"OutboxConversations", testOutboxConversations},
		{"OutboxAnalytics", testOutboxAnalytics},
		{"OutboxRollsBack", testOutboxRollsBack},
		{"OutboxHandoffWithChange", testOutboxHandoffWithChange},
		{"Retention", testWebhookRetention},
		{"DeliveryOrderAndRetry", testDeliveryOrderAndRetry},
		{"DeliveryLease", testDeliveryLease},
		{"FinishAndClaim", testFinishAndClaim},
		{"AutoDisable", testWebhookAutoDisable},
		{"LogAndRedeliver", testWebhookLogAndRedeliver},
		{"TenantIsolation", testWebhookTenantIsolation},
		{"ConcurrentClaims", func(t *testing.T, s store.Store, c *Clock) { ConcurrentWebhookClaims(t, []store.Store{s}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Clock{}
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

func (w *world) endpoint(t testing.TB, s store.Store, events ...webhook.EventType) *webhook.Endpoint {
	t.Helper()
	e := &webhook.Endpoint{AppID: w.app.ID, URL: "https://example.com/hook", Events: events, Enabled: true, Sealed: []byte("sealed")}
	must(t, s.CreateWebhook(context.Background(), e))
	return e
}

func claimDeliveries(t testing.TB, s store.Store, limit int) []webhook.Delivery {
	t.Helper()
	got, err := s.ClaimWebhookDeliveries(context.Background(), "node1", lease, limit)
	must(t, err)
	return got
}

// drain claims and delivers everything due, returning the deliveries in
// the order they were claimed.
func drain(t testing.TB, s store.Store) []webhook.Delivery {
	t.Helper()
	var out []webhook.Delivery
	for range 100 {
		got := claimDeliveries(t, s, 50)
		if len(got) == 0 {
			return out
		}
		for _, d := range got {
			_, err := s.FinishWebhookDelivery(context.Background(), d.ID, d.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 204}})
			must(t, err)
		}
		out = append(out, got...)
	}
	t.Fatal("the queue never drained")
	return nil
}

func eventTypes(ds []webhook.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.EventType)
	}
	return out
}

func testWebhookEndpoints(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	e := w.endpoint(t, s, webhook.MessageCreated, webhook.ConversationCreated, webhook.MessageCreated)
	if len(e.Events) != 2 || e.CreatedAt.IsZero() {
		t.Fatalf("created %+v: want 2 distinct events and a time", e)
	}
	got, err := s.GetWebhook(ctx, w.app.ID, e.ID)
	must(t, err)
	if got.URL != e.URL || string(got.Sealed) != "sealed" || !got.Enabled || len(got.Events) != 2 {
		t.Fatalf("GetWebhook = %+v", got)
	}
	for _, bad := range []webhook.Endpoint{
		{AppID: w.app.ID, URL: "ftp://x", Events: []webhook.EventType{webhook.All}, Sealed: []byte("s")},
		{AppID: w.app.ID, URL: "https://x", Events: []webhook.EventType{"nope"}, Sealed: []byte("s")},
		{AppID: w.app.ID, URL: "https://x", Sealed: []byte("s")},
		{AppID: w.app.ID, URL: "https://x", Events: []webhook.EventType{webhook.All}},
	} {
		wantCode(t, s.CreateWebhook(ctx, &bad), chat.CodeInvalid)
	}
	wantCode(t, s.CreateWebhook(ctx, &webhook.Endpoint{AppID: "nope", URL: "https://x", Events: []webhook.EventType{webhook.All}, Sealed: []byte("s")}), chat.CodeNotFound)

	up, err := s.UpdateWebhook(ctx, w.app.ID, e.ID, func(e *webhook.Endpoint) error {
		e.URL, e.Enabled = "https://example.org/other", false
		return nil
	})
	must(t, err)
	if up.URL != "https://example.org/other" || up.Enabled || !up.UpdatedAt.After(e.CreatedAt) && !up.UpdatedAt.Equal(e.CreatedAt) {
		t.Fatalf("UpdateWebhook = %+v", up)
	}
	_, err = s.UpdateWebhook(ctx, w.app.ID, e.ID, func(e *webhook.Endpoint) error { e.URL = "not a url"; return nil })
	wantCode(t, err, chat.CodeInvalid)
	again, err := s.GetWebhook(ctx, w.app.ID, e.ID)
	must(t, err)
	if again.URL != "https://example.org/other" {
		t.Fatalf("a refused update changed the url to %q", again.URL)
	}
	list, err := s.ListWebhooks(ctx, w.app.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != e.ID {
		t.Fatalf("ListWebhooks = %+v", list)
	}
	for len(list) < webhook.MaxEndpoints {
		w.endpoint(t, s, webhook.All)
		list = append(list, webhook.Endpoint{})
	}
	wantCode(t, s.CreateWebhook(ctx, &webhook.Endpoint{AppID: w.app.ID, URL: "https://x", Events: []webhook.EventType{webhook.All}, Sealed: []byte("s")}), chat.CodeConflict)
	must(t, s.DeleteWebhook(ctx, w.app.ID, e.ID))
	_, err = s.GetWebhook(ctx, w.app.ID, e.ID)
	wantCode(t, err, chat.CodeNotFound)
	wantCode(t, s.DeleteWebhook(ctx, w.app.ID, e.ID), chat.CodeNotFound)
}

func testOutboxMessages(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	// Nothing is written while no endpoint listens.
	w.says(t, s, w.conv.ID, 1)
	e := w.endpoint(t, s, webhook.MessageCreated)
	other := w.endpoint(t, s, webhook.ConversationCreated) // never wants messages
	off := w.endpoint(t, s, webhook.All)
	_, err := s.UpdateWebhook(ctx, w.app.ID, off.ID, func(e *webhook.Endpoint) error { e.Enabled = false; return nil })
	must(t, err)
	up := w.upload
	m, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: w.contact.ID},
		Text: "hello", Metadata: chat.Metadata{"k": "v"}, Attachments: []chat.Attachment{{UploadID: up.ID}}, ClientKey: "c1"})
	must(t, err)
	// A repeat adds nothing.
	_, created, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: w.contact.ID}, Text: "hello", ClientKey: "c1"})
	must(t, err)
	if created {
		t.Fatal("the repeat was stored again")
	}
	got := drain(t, s)
	if len(got) != 1 || got[0].EndpointID != e.ID || got[0].EventType != webhook.MessageCreated || got[0].ConversationID != w.conv.ID {
		t.Fatalf("deliveries %+v, want one message.created to %s", got, e.ID)
	}
	var body struct {
		Type      string `json:"type"`
		Data      chat.Message
		Key       string            `json:"key"`
		From      string            `json:"from"`
		GroupID   string            `json:"groupId"`
		Message   string            `json:"message"`
		TimeStamp int64             `json:"timeStamp"`
		Metadata  map[string]string `json:"metadata"`
		File      *struct {
			Name string `json:"name"`
		} `json:"file"`
	}
	must(t, json.Unmarshal(got[0].Event.Body, &body))
	if body.Type != "message.created" || body.Data.ID != m.ID || body.Key != m.ID || body.From != w.contact.ID || body.GroupID != w.conv.ID ||
		body.Message != "hello" || body.TimeStamp != m.CreatedAt.UnixMilli() || body.Metadata["k"] != "v" || body.File == nil || body.File.Name != up.Name {
		t.Fatalf("body %s does not describe %+v", got[0].Event.Body, m)
	}
	if got[0].Endpoint.URL != e.URL || string(got[0].Endpoint.Sealed) != "sealed" {
		t.Fatalf("claim did not carry the endpoint: %+v", got[0].Endpoint)
	}
	for _, id := range []string{other.ID, off.ID} {
		ds, err := s.ListWebhookDeliveries(ctx, w.app.ID, id, 10)
		must(t, err)
		if len(ds) != 0 {
			t.Fatalf("endpoint %s got %d deliveries it does not want", id, len(ds))
		}
	}
}

func testOutboxConversations(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.All)
	c := w.newConv(t, s)
	_, err := s.UpdateConversation(ctx, w.app.ID, c.ID, func(c *chat.Conversation) error {
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent.ID}
		return nil
	})
	must(t, err)
	_, err = s.UpdateConversation(ctx, w.app.ID, c.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil })
	must(t, err)
	// Both at once give both events; a metadata-only change gives none.
	_, err = s.UpdateConversation(ctx, w.app.ID, c.ID, func(c *chat.Conversation) error {
		c.Status, c.Assignee = chat.StatusOpen, &chat.Assignee{Type: chat.AssigneeAgent, ID: w.agent2.ID}
		return nil
	})
	must(t, err)
	_, err = s.UpdateConversation(ctx, w.app.ID, c.ID, func(c *chat.Conversation) error { c.Metadata["x"] = "y"; return nil })
	must(t, err)
	got := eventTypes(drain(t, s))
	want := "conversation.created conversation.assigned conversation.status_changed conversation.assigned conversation.status_changed"
	if strings.Join(got, " ") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
}

func testOutboxAnalytics(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.ConversationHandedOff, webhook.CSATSubmitted)
	h := &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.HandoffKey("t1"), Kind: chat.AnalyticsHandedOff, ConversationID: w.conv.ID,
		BotID: w.bot.ID, Reason: "give_up", Intent: "Fallback"}
	_, err := s.RecordAnalytics(ctx, h)
	must(t, err)
	again := *h
	_, err = s.RecordAnalytics(ctx, &again) // recorded once, announced once
	must(t, err)
	_, err = s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.CSATKey(w.conv.ID), Kind: chat.AnalyticsCSAT,
		ConversationID: w.conv.ID, Value: 9, Comment: "great"})
	must(t, err)
	_, err = s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.BotResolvedKey(w.conv.ID), Kind: chat.AnalyticsBotResolved,
		ConversationID: w.conv.ID, BotID: w.bot.ID})
	must(t, err)
	got := drain(t, s)
	if strings.Join(eventTypes(got), " ") != "conversation.handed_off csat.submitted" {
		t.Fatalf("events %v", eventTypes(got))
	}
	var ho struct {
		Data struct{ BotID, Reason, Intent, ConversationID string }
	}
	must(t, json.Unmarshal(got[0].Event.Body, &ho))
	if ho.Data.BotID != w.bot.ID || ho.Data.Reason != "give_up" || ho.Data.Intent != "Fallback" || ho.Data.ConversationID != w.conv.ID {
		t.Fatalf("handoff body %s", got[0].Event.Body)
	}
	var cs struct {
		Data struct {
			Rating  int
			Comment string
		}
	}
	must(t, json.Unmarshal(got[1].Event.Body, &cs))
	if cs.Data.Rating != 9 || cs.Data.Comment != "great" {
		t.Fatalf("csat body %s", got[1].Event.Body)
	}
}

// testOutboxRollsBack: a change that fails writes no event.
func testOutboxRollsBack(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.All)
	drain(t, s)
	_, err := s.UpdateConversation(ctx, w.app.ID, w.conv.ID, func(c *chat.Conversation) error {
		c.Assignee = &chat.Assignee{Type: chat.AssigneeAgent, ID: "unknown-agent"}
		return nil
	})
	wantCode(t, err, chat.CodeInvalid)
	_, _, err = s.AppendMessage(ctx, w.app.ID, "unknown-conversation", w.contactSays("x"))
	wantCode(t, err, chat.CodeNotFound)
	_, _, err = s.AppendMessage(ctx, w.app.ID, w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: w.contact.ID},
		Text: "x", Attachments: []chat.Attachment{{UploadID: "foreign"}}})
	wantCode(t, err, chat.CodeNotFound)
	if got := drain(t, s); len(got) != 0 {
		t.Fatalf("failed changes left events %v", eventTypes(got))
	}
}

func testDeliveryOrderAndRetry(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	e := w.endpoint(t, s, webhook.MessageCreated)
	c2 := w.newConv(t, s)
	w.says(t, s, w.conv.ID, 3)
	w.says(t, s, c2.ID, 1)
	got := claimDeliveries(t, s, 10)
	if len(got) != 2 || got[0].ConversationID != w.conv.ID || got[1].ConversationID != c2.ID {
		t.Fatalf("claimed %+v, want the head of each conversation", got)
	}
	first := got[0]
	if first.Attempts != 1 || first.State != webhook.DeliveryRunning {
		t.Fatalf("claimed %+v", first)
	}
	_, err := s.FinishWebhookDelivery(ctx, got[1].ID, got[1].LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 200}})
	must(t, err)
	// A failure waits for its retry, and holds the conversation's later
	// events back meanwhile.
	retry := c.Now().Add(time.Minute)
	_, err = s.FinishWebhookDelivery(ctx, first.ID, first.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 500, Response: "oops"}, RetryAt: retry})
	must(t, err)
	if got := claimDeliveries(t, s, 10); len(got) != 0 {
		t.Fatalf("claimed %v before the retry was due", eventTypes(got))
	}
	c.Advance(2 * time.Minute)
	got = claimDeliveries(t, s, 10)
	if len(got) != 1 || got[0].ID != first.ID || got[0].Event.ID != first.Event.ID || got[0].Attempts != 2 ||
		string(got[0].Event.Body) != string(first.Event.Body) {
		t.Fatalf("retry claimed %+v, want %s again with the same event", got, first.ID)
	}
	_, err = s.FinishWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 200}})
	must(t, err)
	// Given up: the next event goes.
	got = claimDeliveries(t, s, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %d, want the second event", len(got))
	}
	_, err = s.FinishWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{Error: "timeout"}})
	must(t, err)
	rest := drain(t, s)
	if len(rest) != 1 {
		t.Fatalf("after a give-up drained %d, want the third event", len(rest))
	}
	ds, err := s.ListWebhookDeliveries(ctx, w.app.ID, e.ID, 10)
	must(t, err)
	states := map[webhook.DeliveryState]int{}
	for _, d := range ds {
		states[d.State]++
	}
	if states[webhook.DeliveryDelivered] != 3 || states[webhook.DeliveryFailed] != 1 || len(ds) != 4 {
		t.Fatalf("delivery states %v", states)
	}
}

func testDeliveryLease(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.MessageCreated)
	w.says(t, s, w.conv.ID, 1)
	got := claimDeliveries(t, s, 10)
	if len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	if again := claimDeliveries(t, s, 10); len(again) != 0 {
		t.Fatal("a live lease was claimed twice")
	}
	c.Advance(lease + time.Second) // the holder died
	taken := claimDeliveries(t, s, 10)
	if len(taken) != 1 || taken[0].ID != got[0].ID || taken[0].LeaseToken == got[0].LeaseToken || taken[0].Attempts != 2 {
		t.Fatalf("takeover claimed %+v", taken)
	}
	_, err := s.FinishWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 200}})
	wantCode(t, err, chat.CodeConflict)
	wantCode(t, s.ReleaseWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken), chat.CodeConflict)
	must(t, s.ReleaseWebhookDelivery(ctx, taken[0].ID, taken[0].LeaseToken))
	back := claimDeliveries(t, s, 10)
	if len(back) != 1 || back[0].Attempts != 2 {
		t.Fatalf("released delivery claimed as %+v, want attempt 2 again", back)
	}
	_, err = s.FinishWebhookDelivery(ctx, "unknown", "token", webhook.Outcome{})
	wantCode(t, err, chat.CodeNotFound)
}

func testWebhookAutoDisable(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	e := w.endpoint(t, s, webhook.MessageCreated)
	w.says(t, s, w.conv.ID, 1)
	o := webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 503}, DisableMinFailures: 3, DisableAfter: time.Hour}
	for i := range 4 {
		got := claimDeliveries(t, s, 10)
		if len(got) != 1 {
			t.Fatalf("attempt %d: claimed %d", i+1, len(got))
		}
		o.RetryAt = c.Now()
		disabled, err := s.FinishWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken, o)
		must(t, err)
		// Three failures are not enough until they span an hour.
		if disabled != (i == 3) {
			t.Fatalf("attempt %d: disabled = %v", i+1, disabled)
		}
		if i == 2 {
			c.Advance(time.Hour)
		}
	}
	got, err := s.GetWebhook(ctx, w.app.ID, e.ID)
	must(t, err)
	if got.Enabled || got.DisabledReason == "" || got.Failures != 4 || got.FailingSince == nil {
		t.Fatalf("endpoint after failures: %+v", got)
	}
	if d := claimDeliveries(t, s, 10); len(d) != 0 {
		t.Fatal("a disabled endpoint's delivery was claimed")
	}
	re, err := s.UpdateWebhook(ctx, w.app.ID, e.ID, func(e *webhook.Endpoint) error { e.Enabled = true; return nil })
	must(t, err)
	if re.Failures != 0 || re.FailingSince != nil || re.DisabledReason != "" {
		t.Fatalf("re-enabled endpoint kept its failures: %+v", re)
	}
	if got := drain(t, s); len(got) != 1 {
		t.Fatalf("after re-enabling drained %d, want the waiting delivery", len(got))
	}
}

func testWebhookLogAndRedeliver(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	e := w.endpoint(t, s, webhook.MessageCreated)
	w.says(t, s, w.conv.ID, 1)
	got := claimDeliveries(t, s, 1)
	_, err := s.FinishWebhookDelivery(ctx, got[0].ID, got[0].LeaseToken, webhook.Outcome{
		Attempt: webhook.Attempt{StatusCode: 201, LatencyMillis: 12, Response: strings.Repeat("r", 5000)}})
	must(t, err)
	log, err := s.ListWebhookAttempts(ctx, w.app.ID, e.ID, 10)
	must(t, err)
	if len(log) != 1 || log[0].StatusCode != 201 || log[0].LatencyMillis != 12 || len(log[0].Response) != webhook.MaxResponseExcerpt ||
		log[0].EventID != got[0].EventID || log[0].Attempt != 1 || log[0].EventType != webhook.MessageCreated {
		t.Fatalf("log %+v", log)
	}
	d, err := s.RedeliverWebhook(ctx, w.app.ID, e.ID, got[0].EventID)
	must(t, err)
	_, err = s.RedeliverWebhook(ctx, w.app.ID, e.ID, got[0].EventID)
	wantCode(t, err, chat.CodeConflict)
	again := drain(t, s)
	if len(again) != 1 || again[0].ID != d.ID || again[0].Event.ID != got[0].Event.ID || string(again[0].Event.Body) != string(got[0].Event.Body) {
		t.Fatalf("redelivery sent %+v", again)
	}
	_, err = s.RedeliverWebhook(ctx, w.app.ID, e.ID, "unknown")
	wantCode(t, err, chat.CodeNotFound)
	// The log keeps the last LogSize attempts.
	for i := range webhook.LogSize + 40 {
		_, err := s.RedeliverWebhook(ctx, w.app.ID, e.ID, got[0].EventID)
		must(t, err)
		if n := len(drain(t, s)); n != 1 {
			t.Fatalf("round %d drained %d", i, n)
		}
	}
	log, err = s.ListWebhookAttempts(ctx, w.app.ID, e.ID, store.MaxPageSize)
	must(t, err)
	if len(log) != webhook.LogSize {
		t.Fatalf("log holds %d attempts, want %d", len(log), webhook.LogSize)
	}
}

func testWebhookTenantIsolation(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	a, b := newWorld(t, s), newWorld(t, s)
	e := a.endpoint(t, s, webhook.All)
	b.says(t, s, b.conv.ID, 2) // b has no endpoint: a must hear nothing of it
	_, err := s.GetWebhook(ctx, b.app.ID, e.ID)
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.UpdateWebhook(ctx, b.app.ID, e.ID, func(*webhook.Endpoint) error { return nil })
	wantCode(t, err, chat.CodeNotFound)
	wantCode(t, s.DeleteWebhook(ctx, b.app.ID, e.ID), chat.CodeNotFound)
	_, err = s.ListWebhookAttempts(ctx, b.app.ID, e.ID, 10)
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.ListWebhookDeliveries(ctx, b.app.ID, e.ID, 10)
	wantCode(t, err, chat.CodeNotFound)
	list, err := s.ListWebhooks(ctx, b.app.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("app b lists %d of a's endpoints", len(list))
	}
	ds, err := s.ListWebhookDeliveries(ctx, a.app.ID, e.ID, 10)
	must(t, err)
	for _, d := range ds {
		if d.AppID != a.app.ID {
			t.Fatalf("a's endpoint got b's event %+v", d)
		}
	}
	if len(ds) != 0 {
		t.Fatalf("a's endpoint got %d deliveries of b's messages", len(ds))
	}
	_, err = s.RedeliverWebhook(ctx, b.app.ID, e.ID, "x")
	wantCode(t, err, chat.CodeNotFound)
}

// ConcurrentWebhookClaims has claimers on every node race for one queue:
// no delivery is ever held by two at once, each is delivered exactly once,
// and each conversation's go out in order.
func ConcurrentWebhookClaims(t *testing.T, nodes []store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const convs, perConv, claimers = 10, 20, 6
	s := nodes[0]
	w := newWorld(t, s)
	w.endpoint(t, s, webhook.MessageCreated)
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = w.newConv(t, s).ID
	}
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perConv {
				if _, _, err := nodes[i%len(nodes)].AppendMessage(ctx, w.app.ID, ids[i], w.contactSays(fmt.Sprint(k))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var mu sync.Mutex
	holding := map[string]string{} // conversation -> delivery held
	delivered := map[string]int{}
	lastSeq := map[string]int64{}
	total := 0
	work := func(node store.Store, name string) {
		defer wg.Done()
		idle := 0
		for ctx.Err() == nil && idle < 200 {
			got, err := node.ClaimWebhookDeliveries(ctx, name, lease, 4)
			if err != nil {
				t.Error(err)
				return
			}
			if len(got) == 0 {
				idle++
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				finished := total == convs*perConv
				mu.Unlock()
				if finished {
					return
				}
				continue
			}
			idle = 0
			for _, d := range got {
				var body struct{ Data chat.Message }
				if err := json.Unmarshal(d.Event.Body, &body); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if h := holding[d.ConversationID]; h != "" {
					t.Errorf("%s claimed while %s of the same conversation is held", d.ID, h)
				}
				if body.Data.Seq != lastSeq[d.ConversationID]+1 {
					t.Errorf("conversation %s: seq %d delivered after %d", d.ConversationID, body.Data.Seq, lastSeq[d.ConversationID])
				}
				holding[d.ConversationID] = d.ID
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				mu.Lock()
				holding[d.ConversationID] = ""
				lastSeq[d.ConversationID] = body.Data.Seq
				delivered[d.ID]++
				total++
				mu.Unlock()
				if _, err := node.FinishWebhookDelivery(ctx, d.ID, d.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: 200}}); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}
	for i := range claimers {
		wg.Add(1)
		go work(nodes[i%len(nodes)], fmt.Sprint("node", i))
	}
	wg.Wait()
	if len(delivered) != convs*perConv {
		t.Fatalf("delivered %d distinct deliveries, want %d", len(delivered), convs*perConv)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Fatalf("delivery %s delivered %d times", id, n)
		}
	}
}
