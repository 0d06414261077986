package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const eventCols = "app_id, key, kind, conversation_id, bot_id, agent_id, reason, intent, value, comment, at"

func scanEvent(sc interface{ Scan(...any) error }) (*chat.AnalyticsEvent, error) {
	var e chat.AnalyticsEvent
	var at int64
	if err := sc.Scan(&e.AppID, &e.Key, &e.Kind, &e.ConversationID, &e.BotID, &e.AgentID, &e.Reason, &e.Intent, &e.Value, &e.Comment, &at); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	return &e, nil
}

// Bounds on what an event carries; longer intents and reasons are cut, not
// refused, because losing the event over its wording would be worse.
const (
	maxEventKey   = 200
	maxEventLabel = 200
)

// trimLabel cuts an intent or reason to maxEventLabel bytes.
func trimLabel(s string) string {
	s = chat.TrimNote(s)
	if len(s) > maxEventLabel {
		s = s[:maxEventLabel]
	}
	return s
}

func (s *Store) RecordAnalytics(ctx context.Context, e *chat.AnalyticsEvent) (bool, error) {
	if err := checkEvent(e); err != nil {
		return false, err
	}
	created := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = s.recordEventTx(ctx, tx, e)
		return err
	})
	return created, err
}

// checkEvent refuses an event the store cannot keep and trims its labels.
func checkEvent(e *chat.AnalyticsEvent) error {
	if e.Key == "" || len(e.Key) > maxEventKey {
		return chat.FieldError("key", "an analytics event needs a key of at most %d bytes", maxEventKey)
	}
	switch e.Kind {
	case chat.AnalyticsBotResolved, chat.AnalyticsHandedOff, chat.AnalyticsFirstResponse, chat.AnalyticsCSAT, chat.AnalyticsResolved:
	default:
		return chat.FieldError("kind", "unknown analytics event kind %q", e.Kind)
	}
	e.Reason, e.Intent = trimLabel(e.Reason), trimLabel(e.Intent)
	return nil
}

// recordFacts stores, inside a conversation change's transaction, the
// facts its decision filled in (store.Store's UpdateConversation). A fact
// left without a key records nothing; one for another conversation is a
// caller's bug and fails the change.
func (s *Store) recordFacts(ctx context.Context, tx *sql.Tx, c *chat.Conversation, facts []*chat.AnalyticsEvent) error {
	for _, e := range facts {
		if e == nil || e.Key == "" {
			continue
		}
		if e.AppID != c.AppID || e.ConversationID != c.ID {
			return fmt.Errorf("record analytics: a fact of conversation %s recorded with %s", e.ConversationID, c.ID)
		}
		if err := checkEvent(e); err != nil {
			return err
		}
		if _, err := s.recordEventTx(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// recordEventTx inserts e unless its key is taken, and then reads the
// stored one back into e.
func (s *Store) recordEventTx(ctx context.Context, tx *sql.Tx, e *chat.AnalyticsEvent) (bool, error) {
	// Locked, so that a webhook event this writes is numbered after the
	// conversation's events already committed (see outbox.go).
	ok, err := exists(ctx, tx, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"+s.forUpdate()), e.AppID, e.ConversationID)
	if err != nil {
		return false, fmt.Errorf("record analytics: %w", err)
	}
	if !ok {
		return false, chat.NotFound("conversation")
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	// DO NOTHING, not a caught violation: on PostgreSQL a failed statement
	// aborts the transaction, and the stored event must still be read.
	res, err := tx.ExecContext(ctx, s.q("INSERT INTO analytics_events ("+eventCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app_id, key) DO NOTHING`),
		e.AppID, e.Key, string(e.Kind), e.ConversationID, e.BotID, e.AgentID, e.Reason, e.Intent, e.Value, e.Comment, micros(e.At))
	if err != nil {
		return false, fmt.Errorf("record analytics: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("record analytics: %w", err)
	} else if n == 1 {
		return true, s.outboxAnalytics(ctx, tx, e)
	}
	prev, err := scanEvent(tx.QueryRowContext(ctx, s.q("SELECT "+eventCols+" FROM analytics_events WHERE app_id = ? AND key = ?"), e.AppID, e.Key))
	if err != nil {
		return false, fmt.Errorf("record analytics: %w", err)
	}
	*e = *prev
	return false, nil
}

// RecordFirstResponse reads the conversation's messages rather than
// trusting m's place: when two answers are stored at nearly the same time
// their calls may arrive in either order, and the event must still name
// the first. The common case (already recorded) costs one indexed read.
func (s *Store) RecordFirstResponse(ctx context.Context, m *chat.Message) error {
	kinds := []string{chat.FirstResponseAny}
	switch m.Sender.Type {
	case chat.SenderAgent:
		kinds = append(kinds, chat.FirstResponseHuman)
	case chat.SenderBot:
	default:
		return nil
	}
	for _, kind := range kinds {
		key := chat.FirstResponseKey(kind, m.ConversationID)
		done, err := exists(ctx, s.db, s.q("SELECT 1 FROM analytics_events WHERE app_id = ? AND key = ?"), m.AppID, key)
		if err != nil {
			return fmt.Errorf("first response: %w", err)
		}
		if done {
			continue
		}
		var askSeq, askedAt int64
		err = s.db.QueryRowContext(ctx, s.q(`SELECT seq, created_at FROM messages
			WHERE conversation_id = ? AND app_id = ? AND sender_type = 'contact' AND seq < ? ORDER BY seq LIMIT 1`),
			m.ConversationID, m.AppID, m.Seq).Scan(&askSeq, &askedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nobody has asked anything yet: a greeting is not an answer
		}
		if err != nil {
			return fmt.Errorf("first response: %w", err)
		}
		senders := "'agent', 'bot'"
		if kind == chat.FirstResponseHuman {
			senders = "'agent'"
		}
		var senderType, senderID string
		var answeredAt int64
		err = s.db.QueryRowContext(ctx, s.q(`SELECT sender_type, sender_id, created_at FROM messages
			WHERE conversation_id = ? AND app_id = ? AND seq > ? AND seq <= ? AND sender_type IN (`+senders+`) ORDER BY seq LIMIT 1`),
			m.ConversationID, m.AppID, askSeq, m.Seq).Scan(&senderType, &senderID, &answeredAt)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("first response: %w", err)
		}
		e := &chat.AnalyticsEvent{AppID: m.AppID, Key: key, Kind: chat.AnalyticsFirstResponse, ConversationID: m.ConversationID,
			Reason: kind, Value: max(answeredAt-askedAt, 0) / 1000, At: fromMicros(answeredAt)}
		if chat.SenderType(senderType) == chat.SenderBot {
			e.BotID = senderID
		} else {
			e.AgentID = senderID
		}
		if _, err := s.RecordAnalytics(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) AnalyticsSummary(ctx context.Context, appID string, from, to time.Time) (*store.AnalyticsSummary, error) {
	if err := s.requireApp(ctx, s.db, appID); err != nil {
		return nil, err
	}
	lo, hi := micros(from), micros(to)
	sum := &store.AnalyticsSummary{
		From:              from.UTC(),
		To:                to.UTC(),
		HandoffsByReason:  map[string]int64{},
		TopHandoffIntents: []store.IntentCount{},
		FirstResponse:     map[string]store.ResponseTimes{chat.FirstResponseAny: {}, chat.FirstResponseHuman: {}},
	}
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM conversations
		WHERE app_id = ? AND created_at >= ? AND created_at < ?`), appID, lo, hi).Scan(&sum.Conversations); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT kind, reason, COUNT(*), COALESCE(SUM(value), 0) FROM analytics_events
		WHERE app_id = ? AND at >= ? AND at < ? GROUP BY kind, reason`), appID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	var csatTotal int64
	for rows.Next() {
		var kind, reason string
		var n, total int64
		if err := rows.Scan(&kind, &reason, &n, &total); err != nil {
			rows.Close()
			return nil, fmt.Errorf("analytics: %w", err)
		}
		switch chat.AnalyticsKind(kind) {
		case chat.AnalyticsBotResolved:
			sum.BotResolved += n
		case chat.AnalyticsHandedOff:
			sum.HandedOff += n
			sum.HandoffsByReason[reason] += n
		case chat.AnalyticsFirstResponse:
			rt := sum.FirstResponse[reason]
			rt.Count += n
			rt.AverageMillis += total // the sum until the medians below
			sum.FirstResponse[reason] = rt
		case chat.AnalyticsResolved:
			sum.Resolution.Count += n
			sum.Resolution.AverageMillis += total
		case chat.AnalyticsCSAT:
			sum.CSATCount += n
			csatTotal += total
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	if sum.CSATCount > 0 {
		sum.CSATAverage = float64(csatTotal) / float64(sum.CSATCount)
	}
	for kind, rt := range sum.FirstResponse {
		if err := s.durations(ctx, appID, chat.AnalyticsFirstResponse, kind, lo, hi, &rt); err != nil {
			return nil, err
		}
		sum.FirstResponse[kind] = rt
	}
	if err := s.durations(ctx, appID, chat.AnalyticsResolved, "", lo, hi, &sum.Resolution); err != nil {
		return nil, err
	}
	irows, err := s.db.QueryContext(ctx, s.q(`SELECT intent, COUNT(*) AS n FROM analytics_events
		WHERE app_id = ? AND kind = ? AND intent <> '' AND at >= ? AND at < ?
		GROUP BY intent ORDER BY n DESC, intent LIMIT ?`), appID, string(chat.AnalyticsHandedOff), lo, hi, store.MaxTopIntents)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	defer irows.Close()
	for irows.Next() {
		var ic store.IntentCount
		if err := irows.Scan(&ic.Intent, &ic.Count); err != nil {
			return nil, fmt.Errorf("analytics: %w", err)
		}
		sum.TopHandoffIntents = append(sum.TopHandoffIntents, ic)
	}
	return sum, wrapRowsErr(irows, "analytics")
}

// durations completes rt, whose Count is counted and whose AverageMillis
// holds the sum so far, with the mean and the lower median of the events of
// kind and reason in [lo, hi).
func (s *Store) durations(ctx context.Context, appID string, kind chat.AnalyticsKind, reason string, lo, hi int64, rt *store.ResponseTimes) error {
	if rt.Count == 0 {
		return nil
	}
	rt.AverageMillis /= rt.Count
	// The lower median by offset: both databases answer it from the
	// window index without sorting in Go.
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT value FROM analytics_events
		WHERE app_id = ? AND kind = ? AND reason = ? AND at >= ? AND at < ? ORDER BY value LIMIT 1 OFFSET ?`),
		appID, string(kind), reason, lo, hi, (rt.Count-1)/2).Scan(&rt.MedianMillis); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	return nil
}
