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

// errNotDue rolls a claim's transaction back when the email turns out not
// to be due after all (read, answered, closed, or held by another node).
var errNotDue = errors.New("email not due")

// maxEmailMessages bounds how many unread messages one email quotes; the
// rest go in the next one.
const maxEmailMessages = 50

func (s *Store) MarkContactRead(ctx context.Context, appID, conversationID string, seq int64) (int64, error) {
	var read int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT last_seq FROM conversations WHERE app_id = ? AND id = ?"),
			appID, conversationID).Scan(&last); err != nil {
			return notFound(err, "conversation")
		}
		if seq < 1 || seq > last {
			return chat.FieldError("seq", "seq must name a message of this conversation (1 to %d)", last)
		}
		// The guard keeps the position monotonic whatever order two tabs'
		// reports arrive in.
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO conversation_reads (conversation_id, app_id, read_seq, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE
			SET read_seq = excluded.read_seq, updated_at = excluded.updated_at
			WHERE conversation_reads.read_seq < excluded.read_seq`),
			conversationID, appID, seq, micros(s.now())); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		return tx.QueryRowContext(ctx, s.q("SELECT read_seq FROM conversation_reads WHERE conversation_id = ? AND app_id = ?"),
			conversationID, appID).Scan(&read)
	})
	return read, err
}

func (s *Store) ContactReadSeq(ctx context.Context, appID, conversationID string) (int64, error) {
	ok, err := exists(ctx, s.db, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), appID, conversationID)
	if err != nil {
		return 0, fmt.Errorf("read seq: %w", err)
	}
	if !ok {
		return 0, chat.NotFound("conversation")
	}
	var read int64
	err = s.db.QueryRowContext(ctx, s.q("SELECT read_seq FROM conversation_reads WHERE conversation_id = ? AND app_id = ?"),
		conversationID, appID).Scan(&read)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read seq: %w", err)
	}
	return read, nil
}

// unreadAgentMessage is the condition, on a message m of conversation c
// (with LEFT JOINs r on conversation_reads and e on contact_emails), that
// m is an agent's message the contact owes an email for: above the read
// position and what was emailed, with no contact message after it (a
// reply shows the contact saw it).
const unreadAgentMessage = `m.conversation_id = c.id AND m.sender_type = 'agent'
	AND m.seq > COALESCE(r.read_seq, 0) AND m.seq > COALESCE(e.sent_seq, 0)
	AND NOT EXISTS (SELECT 1 FROM messages x WHERE x.conversation_id = c.id AND x.sender_type = 'contact' AND x.seq > m.seq)`

func (s *Store) DueContactEmails(ctx context.Context, w store.UnreadWindow, limit int) ([]store.ConversationRef, error) {
	if limit <= 0 || limit > store.MaxPageSize {
		return nil, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	now := micros(s.now())
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.app_id, c.id FROM conversations c
		JOIN contacts ct ON ct.id = c.contact_id
		LEFT JOIN conversation_reads r ON r.conversation_id = c.id
		LEFT JOIN contact_emails e ON e.conversation_id = c.id
		WHERE c.status NOT IN (2, 3, 4) AND ct.email <> ''
		AND COALESCE(e.claim_until, 0) <= ? AND COALESCE(e.retry_at, 0) <= ?
		AND EXISTS (SELECT 1 FROM messages m WHERE `+unreadAgentMessage+` AND m.created_at >= ? AND m.created_at < ?)
		ORDER BY c.updated_at, c.id LIMIT ?`), now, now, micros(w.From), micros(w.Before), limit)
	if err != nil {
		return nil, fmt.Errorf("due contact emails: %w", err)
	}
	defer rows.Close()
	out := []store.ConversationRef{}
	for rows.Next() {
		var ref store.ConversationRef
		if err := rows.Scan(&ref.AppID, &ref.ConversationID); err != nil {
			return nil, fmt.Errorf("due contact emails: %w", err)
		}
		out = append(out, ref)
	}
	return out, wrapRowsErr(rows, "due contact emails")
}

func (s *Store) ClaimContactEmail(ctx context.Context, ref store.ConversationRef, w store.UnreadWindow, lease time.Duration) (*store.ContactEmailClaim, error) {
	now := s.now()
	claim := &store.ContactEmailClaim{ConversationRef: ref, Token: chat.NewID()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The claim comes first: its row lock (PostgreSQL) or the single
		// writer (SQLite) makes every other node's claim wait for this
		// transaction and then find the row held.
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO contact_emails (conversation_id, app_id, claim_token, claim_until, attempts, updated_at)
			VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (conversation_id) DO UPDATE
			SET claim_token = excluded.claim_token, claim_until = excluded.claim_until,
				attempts = contact_emails.attempts + 1, updated_at = excluded.updated_at
			WHERE contact_emails.app_id = excluded.app_id AND contact_emails.claim_until <= ? AND contact_emails.retry_at <= ?`),
			ref.ConversationID, ref.AppID, claim.Token, micros(now.Add(lease)), micros(now), micros(now), micros(now))
		if err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		} else if n == 0 {
			return errNotDue
		}
		var (
			sentSeq, readSeq, attempts int64
			status                     int
			contactID                  string
		)
		err = tx.QueryRowContext(ctx, s.q(`SELECT e.sent_seq, e.attempts, COALESCE(r.read_seq, 0), c.status, c.contact_id
			FROM contact_emails e JOIN conversations c ON c.id = e.conversation_id AND c.app_id = e.app_id
			LEFT JOIN conversation_reads r ON r.conversation_id = c.id
			WHERE e.conversation_id = ? AND e.app_id = ?`), ref.ConversationID, ref.AppID).
			Scan(&sentSeq, &attempts, &readSeq, &status, &contactID)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotDue
		}
		if err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		}
		if chat.Status(status).Closed() {
			return errNotDue
		}
		ct, err := scanContact(tx.QueryRowContext(ctx, s.q("SELECT "+contactCols+" FROM contacts WHERE app_id = ? AND id = ?"), ref.AppID, contactID))
		if err != nil {
			return notFound(err, "contact")
		}
		if ct.Email == "" {
			return errNotDue
		}
		var lastContact int64
		if err := tx.QueryRowContext(ctx, s.q("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = ? AND app_id = ? AND sender_type = 'contact'"),
			ref.ConversationID, ref.AppID).Scan(&lastContact); err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		}
		msgs, err := s.queryMessages(ctx, tx, s.q("SELECT "+msgCols+` FROM messages
			WHERE conversation_id = ? AND app_id = ? AND sender_type = 'agent' AND seq > ? AND created_at >= ? ORDER BY seq LIMIT ?`),
			ref.ConversationID, ref.AppID, max(sentSeq, readSeq, lastContact), micros(w.From), maxEmailMessages)
		if err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		}
		if len(msgs) == 0 || !msgs[0].CreatedAt.Before(w.Before) {
			return errNotDue
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE contact_emails SET claim_seq = ? WHERE conversation_id = ? AND app_id = ?"),
			msgs[len(msgs)-1].Seq, ref.ConversationID, ref.AppID); err != nil {
			return fmt.Errorf("claim contact email: %w", err)
		}
		claim.Attempt, claim.Contact, claim.Messages = int(attempts), *ct, msgs
		return nil
	})
	if errors.Is(err, errNotDue) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return claim, nil
}

func (s *Store) queryMessages(ctx context.Context, q queryer, query string, args ...any) ([]chat.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []chat.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

func (s *Store) FinishContactEmail(ctx context.Context, ref store.ConversationRef, token string, done bool, retryAt time.Time) error {
	set, args := "sent_seq = claim_seq, attempts = 0, retry_at = 0", []any{}
	if !done {
		set, args = "retry_at = ?", []any{micros(retryAt)}
	}
	if token == "" {
		return chat.Errorf(chat.CodeConflict, "the claim is no longer held")
	}
	args = append(args, micros(s.now()), ref.ConversationID, ref.AppID, token)
	res, err := s.wdb.ExecContext(ctx, s.q(`UPDATE contact_emails SET `+set+`,
		claim_token = '', claim_until = 0, updated_at = ? WHERE conversation_id = ? AND app_id = ? AND claim_token = ?`), args...)
	return claimHeld(res, err, "finish contact email")
}

// claimHeld turns the result of a token-guarded update into the claim's
// fate: no row matched means the claim was lost (its lease expired and
// another node took it over).
func claimHeld(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return chat.Errorf(chat.CodeConflict, "the claim is no longer held")
	}
	return nil
}

func (s *Store) ObserveAgents(ctx context.Context, appID string, offline, online []string) error {
	now := micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The agent must be the app's: a row never names another app's agent.
		for _, id := range offline {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO agent_emails (agent_id, app_id, offline_since, updated_at)
				SELECT id, app_id, ?, ? FROM agents WHERE id = ? AND app_id = ?
				ON CONFLICT (agent_id) DO UPDATE SET offline_since = excluded.offline_since, updated_at = excluded.updated_at
				WHERE agent_emails.offline_since = 0`), now, now, id, appID); err != nil {
				return fmt.Errorf("observe agents: %w", err)
			}
		}
		for _, id := range online {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE agent_emails SET offline_since = 0, updated_at = ?
				WHERE agent_id = ? AND app_id = ? AND offline_since <> 0`), now, id, appID); err != nil {
				return fmt.Errorf("observe agents: %w", err)
			}
		}
		return nil
	})
}

func (s *Store) OfflineAgents(ctx context.Context, appID string, before time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT agent_id FROM agent_emails
		WHERE app_id = ? AND offline_since > 0 AND offline_since <= ? ORDER BY agent_id`), appID, micros(before))
	if err != nil {
		return nil, fmt.Errorf("offline agents: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("offline agents: %w", err)
		}
		out = append(out, id)
	}
	return out, wrapRowsErr(rows, "offline agents")
}

func (s *Store) ClaimAgentDigest(ctx context.Context, appID, agentID string, before time.Time, lease time.Duration) (*store.AgentDigestClaim, error) {
	now := s.now()
	claim := &store.AgentDigestClaim{AppID: appID, AgentID: agentID, Token: chat.NewID()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE agent_emails SET claim_token = ?, claim_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE agent_id = ? AND app_id = ? AND offline_since > 0 AND offline_since <= ? AND claim_until <= ? AND retry_at <= ?`),
			claim.Token, micros(now.Add(lease)), micros(now), agentID, appID, micros(before), micros(now), micros(now))
		if err != nil {
			return fmt.Errorf("claim agent digest: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("claim agent digest: %w", err)
		} else if n == 0 {
			return errNotDue
		}
		if err := tx.QueryRowContext(ctx, s.q("SELECT attempts FROM agent_emails WHERE agent_id = ? AND app_id = ?"), agentID, appID).Scan(&claim.Attempt); err != nil {
			return fmt.Errorf("claim agent digest: %w", err)
		}
		// Waiting: the contact's messages after the last agent message
		// (anyone's: a colleague's answer counts) and after what an earlier
		// digest to this agent listed.
		rows, err := tx.QueryContext(ctx, s.q(`SELECT c.id, ct.name, COUNT(*), MAX(m.seq), MIN(m.created_at)
			FROM conversations c
			JOIN contacts ct ON ct.id = c.contact_id
			JOIN messages m ON m.conversation_id = c.id AND m.sender_type = 'contact'
			LEFT JOIN agent_email_conversations n ON n.agent_id = ? AND n.conversation_id = c.id
			WHERE c.app_id = ? AND c.assignee_id = ? AND c.assignee_type = 'agent' AND c.status NOT IN (2, 3, 4)
			AND m.seq > COALESCE(n.sent_seq, 0)
			AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.conversation_id = c.id AND a.sender_type = 'agent' AND a.seq > m.seq)
			GROUP BY c.id, ct.name ORDER BY MIN(m.created_at), c.id LIMIT ?`), agentID, appID, agentID, store.MaxDigestItems)
		if err != nil {
			return fmt.Errorf("claim agent digest: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var it store.DigestItem
			var since int64
			if err := rows.Scan(&it.ConversationID, &it.ContactName, &it.Waiting, &it.UpToSeq, &since); err != nil {
				return fmt.Errorf("claim agent digest: %w", err)
			}
			it.Since = fromMicros(since)
			claim.Items = append(claim.Items, it)
		}
		if err := wrapRowsErr(rows, "claim agent digest"); err != nil {
			return err
		}
		if len(claim.Items) == 0 {
			return errNotDue
		}
		return nil
	})
	if errors.Is(err, errNotDue) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return claim, nil
}

func (s *Store) FinishAgentDigest(ctx context.Context, c *store.AgentDigestClaim, done bool, retryAt time.Time) error {
	if c.Token == "" {
		return chat.Errorf(chat.CodeConflict, "the claim is no longer held")
	}
	now := micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		set, args := "attempts = 0, retry_at = 0", []any{}
		if !done {
			set, args = "retry_at = ?", []any{micros(retryAt)}
		}
		args = append(args, now, c.AgentID, c.AppID, c.Token)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE agent_emails SET `+set+`, claim_token = '', claim_until = 0, updated_at = ?
			WHERE agent_id = ? AND app_id = ? AND claim_token = ?`), args...)
		if err := claimHeld(res, err, "finish agent digest"); err != nil {
			return err
		}
		if !done {
			return nil
		}
		for _, it := range c.Items {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO agent_email_conversations (agent_id, conversation_id, app_id, sent_seq)
				VALUES (?, ?, ?, ?) ON CONFLICT (agent_id, conversation_id) DO UPDATE SET sent_seq = excluded.sent_seq
				WHERE agent_email_conversations.sent_seq < excluded.sent_seq`), c.AgentID, it.ConversationID, c.AppID, it.UpToSeq); err != nil {
				return fmt.Errorf("finish agent digest: %w", err)
			}
		}
		return nil
	})
}
