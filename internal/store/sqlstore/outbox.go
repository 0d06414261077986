package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// The outbox: webhook events are written by the transaction that makes the
// change they report, with one delivery per endpoint subscribed at that
// moment. A change that rolls back takes its events with it, and a change
// that commits cannot lose them, whatever happens to the process next.
//
// Every writer holds the conversation's row lock when it gets here
// (message batches and conversation updates lock it, CreateConversation
// inserts it, analytics lock it first), so deliveries of one conversation
// are numbered in commit order: a claimer never sees a later one of a
// conversation while an earlier one is still uncommitted.

// subscriber is an enabled endpoint as the outbox needs it.
type subscriber struct {
	id     string
	events []webhook.EventType
}

func (sub subscriber) wants(t webhook.EventType) bool {
	e := webhook.Endpoint{Events: sub.events}
	return e.Subscribes(t)
}

// subscribers returns the enabled endpoints of the apps, by app. Apps with
// none are absent, so a store without webhooks pays one indexed read.
func (s *Store) subscribers(ctx context.Context, tx *sql.Tx, appIDs []string) (map[string][]subscriber, error) {
	args := make([]any, len(appIDs))
	for i, id := range appIDs {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, s.q("SELECT id, app_id, events FROM webhook_endpoints WHERE enabled AND app_id IN ("+
		inList(len(appIDs))+") ORDER BY id"), args...)
	if err != nil {
		return nil, fmt.Errorf("webhook subscribers: %w", err)
	}
	defer rows.Close()
	out := map[string][]subscriber{}
	for rows.Next() {
		var sub subscriber
		var appID, events string
		if err := rows.Scan(&sub.id, &appID, &events); err != nil {
			return nil, fmt.Errorf("webhook subscribers: %w", err)
		}
		if err := json.Unmarshal([]byte(events), &sub.events); err != nil {
			return nil, fmt.Errorf("webhook subscribers: decode events: %w", err)
		}
		out[appID] = append(out[appID], sub)
	}
	return out, wrapRowsErr(rows, "webhook subscribers")
}

// anyWants reports whether some endpoint of subs wants t.
func anyWants(subs []subscriber, t webhook.EventType) bool {
	for _, sub := range subs {
		if sub.wants(t) {
			return true
		}
	}
	return false
}

// outboxMessages writes message.created for a batch's new messages.
func (s *Store) outboxMessages(ctx context.Context, tx *sql.Tx, msgs []*chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var apps []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if !seen[m.AppID] {
			seen[m.AppID] = true
			apps = append(apps, m.AppID)
		}
	}
	subs, err := s.subscribers(ctx, tx, apps)
	if err != nil || len(subs) == 0 {
		return err
	}
	var convIDs []string
	seenConv := map[string]bool{}
	for _, m := range msgs {
		if anyWants(subs[m.AppID], webhook.MessageCreated) && !seenConv[m.ConversationID] {
			seenConv[m.ConversationID] = true
			convIDs = append(convIDs, m.ConversationID)
		}
	}
	if len(convIDs) == 0 {
		return nil
	}
	meta, err := s.conversationMetadata(ctx, tx, convIDs)
	if err != nil {
		return err
	}
	var events []webhook.Event
	for _, m := range msgs {
		if !seenConv[m.ConversationID] {
			continue
		}
		e, err := webhook.MessageEvent(m, meta[m.ConversationID])
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return s.writeEvents(ctx, tx, subs, events)
}

// conversationMetadata reads the metadata of the conversations, which a
// message batch has locked already.
func (s *Store) conversationMetadata(ctx context.Context, tx *sql.Tx, ids []string) (map[string]chat.Metadata, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, s.q("SELECT id, metadata FROM conversations WHERE id IN ("+inList(len(ids))+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("webhook outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]chat.Metadata{}
	for rows.Next() {
		var id, meta string
		if err := rows.Scan(&id, &meta); err != nil {
			return nil, fmt.Errorf("webhook outbox: %w", err)
		}
		if out[id], err = decodeMetadata(meta); err != nil {
			return nil, fmt.Errorf("webhook outbox: %w", err)
		}
	}
	return out, wrapRowsErr(rows, "webhook outbox")
}

// outboxConversation writes the events of a conversation's creation
// (before == nil) or change.
func (s *Store) outboxConversation(ctx context.Context, tx *sql.Tx, before, after *chat.Conversation) error {
	return s.outboxFor(ctx, tx, after.AppID, func() ([]webhook.Event, error) { return webhook.ConversationEvents(before, after) })
}

// outboxAnalytics writes the event of a newly recorded analytics fact, if
// it has one.
func (s *Store) outboxAnalytics(ctx context.Context, tx *sql.Tx, a *chat.AnalyticsEvent) error {
	return s.outboxFor(ctx, tx, a.AppID, func() ([]webhook.Event, error) { return webhook.AnalyticsEvents(a) })
}

// outboxFor builds an app's events only when some endpoint of the app may
// want them.
func (s *Store) outboxFor(ctx context.Context, tx *sql.Tx, appID string, build func() ([]webhook.Event, error)) error {
	subs, err := s.subscribers(ctx, tx, []string{appID})
	if err != nil || len(subs) == 0 {
		return err
	}
	events, err := build()
	if err != nil {
		return err
	}
	return s.writeEvents(ctx, tx, subs, events)
}

// rowsPerInsert bounds one multi-row INSERT, far below both databases'
// parameter limits.
const rowsPerInsert = 200

// writeEvents stores the events that some endpoint wants, and a delivery
// for each endpoint that wants one.
func (s *Store) writeEvents(ctx context.Context, tx *sql.Tx, subs map[string][]subscriber, events []webhook.Event) error {
	var evRows, delRows [][]any
	for _, e := range events {
		wanted := false
		for _, sub := range subs[e.AppID] {
			if !sub.wants(e.Type) {
				continue
			}
			wanted = true
			delRows = append(delRows, []any{chat.NewID(), e.AppID, sub.id, e.ID, e.ConversationID,
				string(webhook.DeliveryPending), micros(e.CreatedAt), micros(e.CreatedAt)})
		}
		if wanted {
			evRows = append(evRows, []any{e.ID, e.AppID, string(e.Type), e.ConversationID, string(e.Body), micros(e.CreatedAt)})
		}
	}
	if err := s.insertRows(ctx, tx, "webhook_events (id, app_id, type, conversation_id, body, created_at)", evRows); err != nil {
		return fmt.Errorf("webhook outbox: events: %w", err)
	}
	// Deliveries go in event order, which is what numbers them (n).
	if err := s.insertRowsWith(ctx, tx, `webhook_deliveries (id, app_id, endpoint_id, event_id, conversation_id, state,
		attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, created_at, finished_at)`,
		"(?, ?, ?, ?, ?, ?, 0, ?, '', '', 0, ?, 0)", delRows); err != nil {
		return fmt.Errorf("webhook outbox: deliveries: %w", err)
	}
	return nil
}

// insertRows inserts rows of plain placeholders, a chunk per statement.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, into string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return s.insertRowsWith(ctx, tx, into, "("+inList(len(rows[0]))+")", rows)
}

// insertRowsWith inserts rows, each written as tuple (its ? filled from
// the row's values), a chunk per statement.
func (s *Store) insertRowsWith(ctx context.Context, tx *sql.Tx, into, tuple string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), rowsPerInsert)
		var b strings.Builder
		b.WriteString("INSERT INTO " + into + " VALUES ")
		args := make([]any, 0, n*len(rows[0]))
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tuple)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
