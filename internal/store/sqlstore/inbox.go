package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// appendInbox numbers and stores one inbox event inside the transaction that
// made the change, so the event commits or rolls back with it.
//
// The number comes from apps.inbox_seq, bumped by an UPDATE: on PostgreSQL
// that holds the app row's lock until commit, so the next writer in the app
// waits, reads the committed value and takes the next number; a rolled-back
// transaction gives its number back. Seqs are therefore gap-free and commit
// in seq order, across nodes too. SQLite's single writer gives the same.
//
// Callers must call this last in their transaction, after every conversation
// row they lock. The message group commit locks conversation rows and never
// the app row, so "conversation rows, then the app row" is the only order
// any transaction takes them in, and no cycle (deadlock) can form. The app
// row lock is FOR NO KEY UPDATE (inbox_seq is in no key), which does not
// conflict with the KEY SHARE locks that foreign-key checks of concurrent
// inserts take on the same row.
func (s *Store) appendInbox(ctx context.Context, tx *sql.Tx, kind chat.InboxKind, c *chat.Conversation) error {
	var seq int64
	if err := tx.QueryRowContext(ctx, s.q("UPDATE apps SET inbox_seq = inbox_seq + 1 WHERE id = ? RETURNING inbox_seq"),
		c.AppID).Scan(&seq); err != nil {
		return notFound(err, "app")
	}
	snap, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("inbox event: encode conversation: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO inbox_events (app_id, seq, kind, conversation_id, conversation, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), c.AppID, seq, string(kind), c.ID, string(snap), micros(c.UpdatedAt)); err != nil {
		return fmt.Errorf("inbox event: %w", err)
	}
	return nil
}

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return store.DefaultPageSize
	case limit > store.MaxPageSize:
		return store.MaxPageSize
	}
	return limit
}

func (s *Store) ListInboxEvents(ctx context.Context, appID string, afterSeq int64, limit int) ([]chat.InboxEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT seq, kind, conversation, created_at FROM inbox_events
		WHERE app_id = ? AND seq > ? ORDER BY seq LIMIT ?`), appID, afterSeq, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list inbox events: %w", err)
	}
	defer rows.Close()
	out := []chat.InboxEvent{}
	for rows.Next() {
		e := chat.InboxEvent{AppID: appID}
		var kind, snap string
		var created int64
		if err := rows.Scan(&e.Seq, &kind, &snap, &created); err != nil {
			return nil, fmt.Errorf("list inbox events: %w", err)
		}
		if err := json.Unmarshal([]byte(snap), &e.Conversation); err != nil {
			return nil, fmt.Errorf("list inbox events: decode conversation: %w", err)
		}
		// The snapshot was written by json.Marshal, which drops nothing, but
		// callers rely on a non-nil map as everywhere else in the store.
		if e.Conversation.Metadata == nil {
			e.Conversation.Metadata = chat.Metadata{}
		}
		e.Kind, e.CreatedAt = chat.InboxKind(kind), fromMicros(created)
		out = append(out, e)
	}
	return out, wrapRowsErr(rows, "list inbox events")
}

func (s *Store) InboxSeq(ctx context.Context, appID string) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, s.q("SELECT inbox_seq FROM apps WHERE id = ?"), appID).Scan(&seq); err != nil {
		return 0, notFound(err, "app")
	}
	return seq, nil
}

// lastSeqsChunk keeps SQLite's IN list well under its bound on parameters.
const lastSeqsChunk = 500

func (s *Store) LastSeqs(ctx context.Context, appID string, conversationIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(conversationIDs))
	if s.flavor == Postgres {
		// One statement whatever the count: the ids travel as one array.
		if len(conversationIDs) > 0 {
			if err := s.scanLastSeqs(ctx, out, "SELECT id, last_seq FROM conversations WHERE app_id = $1 AND id = ANY($2::text[])",
				appID, conversationIDs); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for start := 0; start < len(conversationIDs); start += lastSeqsChunk {
		chunk := conversationIDs[start:min(start+lastSeqsChunk, len(conversationIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, appID)
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := s.scanLastSeqs(ctx, out, "SELECT id, last_seq FROM conversations WHERE app_id = ? AND id IN ("+inList(len(chunk))+")",
			args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) scanLastSeqs(ctx context.Context, out map[string]int64, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("last seqs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return fmt.Errorf("last seqs: %w", err)
		}
		out[id] = seq
	}
	return wrapRowsErr(rows, "last seqs")
}

// nodeConnectionsLockKey serialises SetNodeConnections across nodes on
// PostgreSQL (an arbitrary constant, like migrationLockKey). Each call also
// prunes other nodes' expired rows; two calls pruning and replacing at once
// could lock the same rows in different orders and deadlock. The calls are
// rare (a refresh every few seconds per node) and short, so queueing them is
// cheaper than reasoning about row-lock order.
const nodeConnectionsLockKey = 0x5377_6243 // "SwbC"

func (s *Store) SetNodeConnections(ctx context.Context, nodeID string, agents []store.AgentRef, expiresAt time.Time) error {
	if nodeID == "" {
		return chat.FieldError("nodeId", "node id is required")
	}
	// Duplicates would violate the primary key; an agent with two tabs open
	// is one row.
	seen := make(map[store.AgentRef]bool, len(agents))
	apps := make([]string, 0, len(agents))
	ids := make([]string, 0, len(agents))
	for _, a := range agents {
		if a.AppID == "" || a.AgentID == "" || seen[a] {
			continue
		}
		seen[a] = true
		apps, ids = append(apps, a.AppID), append(ids, a.AgentID)
	}
	expires, now := micros(expiresAt), micros(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.flavor == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", nodeConnectionsLockKey); err != nil {
				return fmt.Errorf("set node connections: lock: %w", err)
			}
		}
		// Expired rows of any node go too: node ids are per process, so
		// without this every restart would leave rows behind for good.
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM node_connections WHERE node_id = ? OR expires_at <= ?"), nodeID, now); err != nil {
			return fmt.Errorf("set node connections: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if s.flavor == Postgres {
			_, err := tx.ExecContext(ctx, `INSERT INTO node_connections (node_id, app_id, agent_id, expires_at)
				SELECT $1, a, g, $4 FROM unnest($2::text[], $3::text[]) AS v(a, g)`, nodeID, apps, ids, expires)
			if err != nil {
				return fmt.Errorf("set node connections: %w", err)
			}
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO node_connections (node_id, app_id, agent_id, expires_at) VALUES (?, ?, ?, ?)")
		if err != nil {
			return fmt.Errorf("set node connections: %w", err)
		}
		defer stmt.Close()
		for i := range ids {
			if _, err := stmt.ExecContext(ctx, nodeID, apps[i], ids[i], expires); err != nil {
				return fmt.Errorf("set node connections: %w", err)
			}
		}
		return nil
	})
}

func (s *Store) ConnectedAgents(ctx context.Context, appID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT agent_id FROM node_connections
		WHERE app_id = ? AND expires_at > ? ORDER BY agent_id`), appID, micros(s.now()))
	if err != nil {
		return nil, fmt.Errorf("connected agents: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("connected agents: %w", err)
		}
		out = append(out, id)
	}
	return out, wrapRowsErr(rows, "connected agents")
}
