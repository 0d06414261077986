package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// AssignRoundRobin: see store.Store. The cursor row is taken first, before
// the conversation row (updateConversationTx) and the app row
// (appendInbox). Nothing else ever locks a cursor row, so a transaction
// holding a conversation or the app row never waits for one, and the
// order "cursor, conversation, app" cannot close a cycle with the message
// group commit (conversation rows only) or UpdateConversation
// (conversation, then app).
func (s *Store) AssignRoundRobin(ctx context.Context, appID, teamID, conversationID string, decide func(store.RoundRobin, *chat.Conversation) (string, error), facts ...*chat.AnalyticsEvent) (*chat.Conversation, error) {
	var out *chat.Conversation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, appID); err != nil {
			return err
		}
		// The row must exist before it can be locked; DO NOTHING lets two
		// first placements race here harmlessly, and both then queue on
		// the same row below.
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO round_robin_cursors (app_id, team_id, last_agent_id)
			VALUES (?, ?, '') ON CONFLICT (app_id, team_id) DO NOTHING`), appID, teamID); err != nil {
			return fmt.Errorf("round robin: create cursor: %w", err)
		}
		var rr store.RoundRobin
		if err := tx.QueryRowContext(ctx, s.q(`SELECT last_agent_id FROM round_robin_cursors
			WHERE app_id = ? AND team_id = ?`+s.forUpdate()), appID, teamID).Scan(&rr.Cursor); err != nil {
			return fmt.Errorf("round robin: lock cursor: %w", err)
		}
		// Read after the lock: under READ COMMITTED this statement sees the
		// assignment the previous lock holder committed, so the counts the
		// concurrent-chat limit uses are never one placement behind.
		var err error
		if rr.OpenChats, err = s.openChats(ctx, tx, appID, conversationID); err != nil {
			return err
		}
		var cursor string
		out, err = s.updateConversationTx(ctx, tx, appID, conversationID, func(c *chat.Conversation) error {
			var err error
			cursor, err = decide(rr, c)
			return err
		})
		if err != nil {
			return err
		}
		if err := s.recordFacts(ctx, tx, out, facts); err != nil {
			return err
		}
		if cursor != rr.Cursor {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE round_robin_cursors SET last_agent_id = ?
				WHERE app_id = ? AND team_id = ?`), cursor, appID, teamID); err != nil {
				return fmt.Errorf("round robin: write cursor: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// openChats counts each agent's conversations that are not closed, except
// the one being placed (it is about to change hands).
func (s *Store) openChats(ctx context.Context, tx *sql.Tx, appID, exceptID string) (map[string]int, error) {
	closed := []string{}
	for _, st := range chat.Statuses {
		if st.Closed() {
			closed = append(closed, strconv.Itoa(int(st)))
		}
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT assignee_id, COUNT(*) FROM conversations
		WHERE app_id = ? AND assignee_type = ? AND id <> ? AND status NOT IN (`+strings.Join(closed, ", ")+`)
		GROUP BY assignee_id`), appID, string(chat.AssigneeAgent), exceptID)
	if err != nil {
		return nil, fmt.Errorf("round robin: count open chats: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("round robin: count open chats: %w", err)
		}
		out[id] = n
	}
	return out, wrapRowsErr(rows, "round robin: count open chats")
}
