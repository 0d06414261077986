package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// IdleConversations: see store.Store. The status test is written exactly
// as the conversations_idle index's predicate, so the planner can use it.
func (s *Store) IdleConversations(ctx context.Context, appID string, teamIDs []string, before time.Time, limit int) ([]chat.Conversation, error) {
	if limit <= 0 || limit > store.MaxPageSize {
		return nil, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	if len(teamIDs) == 0 {
		return []chat.Conversation{}, nil
	}
	args := []any{appID, micros(before)}
	for _, id := range teamIDs {
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+convCols+` FROM conversations
		WHERE app_id = ? AND status NOT IN (2, 3, 4) AND updated_at < ? AND team_id IN (`+inList(len(teamIDs))+`)
		ORDER BY updated_at, id LIMIT ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("idle conversations: %w", err)
	}
	defer rows.Close()
	out := []chat.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("idle conversations: %w", err)
		}
		out = append(out, *c)
	}
	return out, wrapRowsErr(rows, "idle conversations")
}
