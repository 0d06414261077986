package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const convCols = "id, app_id, contact_id, status, assignee_type, assignee_id, team_id, metadata, last_seq, created_at, updated_at"

func scanConversation(sc interface{ Scan(...any) error }) (*chat.Conversation, error) {
	var c chat.Conversation
	var aType, aID, meta string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.AppID, &c.ContactID, &c.Status, &aType, &aID, &c.TeamID, &meta, &c.LastSeq, &created, &updated); err != nil {
		return nil, err
	}
	if aType != "" {
		c.Assignee = &chat.Assignee{Type: chat.AssigneeType(aType), ID: aID}
	}
	md, err := decodeMetadata(meta)
	if err != nil {
		return nil, err
	}
	c.Metadata = md
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// decodeMetadata always returns a non-nil map, so callers (and
// UpdateConversation's fn) can set keys without a nil check.
func decodeMetadata(s string) (chat.Metadata, error) {
	md := chat.Metadata{}
	if s == "" {
		return md, nil
	}
	if err := json.Unmarshal([]byte(s), (*map[string]string)(&md)); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	return md, nil
}

func encodeMetadata(m chat.Metadata) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(map[string]string(m)) // a map of strings always marshals
	return string(b)
}

func assigneeCols(a *chat.Assignee) (string, string) {
	if a == nil {
		return "", ""
	}
	return string(a.Type), a.ID
}

// checkConversationRefs validates what the database alone cannot: the
// assignee and team must exist in the conversation's own app.
func (s *Store) checkConversationRefs(ctx context.Context, q queryer, c *chat.Conversation) error {
	if !c.Status.Valid() {
		return chat.FieldError("status", "unknown status %d", int(c.Status))
	}
	if err := c.Assignee.Validate(); err != nil {
		return err
	}
	if err := c.Metadata.Validate("metadata"); err != nil {
		return err
	}
	if c.Assignee != nil {
		table := "agents"
		if c.Assignee.Type == chat.AssigneeBot {
			table = "bots"
		}
		ok, err := exists(ctx, q, s.q("SELECT 1 FROM "+table+" WHERE app_id = ? AND id = ?"), c.AppID, c.Assignee.ID)
		if err != nil {
			return fmt.Errorf("check assignee: %w", err)
		}
		if !ok {
			return chat.FieldError("assignee.id", "no %s with this id in the app", c.Assignee.Type)
		}
	}
	if c.TeamID != "" {
		ok, err := exists(ctx, q, s.q("SELECT 1 FROM teams WHERE app_id = ? AND id = ?"), c.AppID, c.TeamID)
		if err != nil {
			return fmt.Errorf("check team: %w", err)
		}
		if !ok {
			return chat.FieldError("teamId", "no team with this id in the app")
		}
	}
	return nil
}

func (s *Store) CreateConversation(ctx context.Context, c *chat.Conversation) error {
	if c.ID == "" {
		c.ID = chat.NewID()
	}
	if c.Metadata == nil {
		c.Metadata = chat.Metadata{}
	}
	c.LastSeq = 0
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, c.AppID); err != nil {
			return err
		}
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM contacts WHERE app_id = ? AND id = ?"), c.AppID, c.ContactID)
		if err != nil {
			return fmt.Errorf("create conversation: check contact: %w", err)
		}
		if !ok {
			return chat.FieldError("contactId", "no contact with this id in the app")
		}
		if err := s.checkConversationRefs(ctx, tx, c); err != nil {
			return err
		}
		aType, aID := assigneeCols(c.Assignee)
		_, err = tx.ExecContext(ctx, s.q("INSERT INTO conversations ("+convCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			c.ID, c.AppID, c.ContactID, int(c.Status), aType, aID, c.TeamID, encodeMetadata(c.Metadata),
			c.LastSeq, micros(c.CreatedAt), micros(c.UpdatedAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "conversation id already exists").WithDetail("field", "id")
			}
			return fmt.Errorf("create conversation: %w", err)
		}
		if err := s.outboxConversation(ctx, tx, nil, c); err != nil {
			return err
		}
		return s.appendInbox(ctx, tx, chat.InboxCreated, c)
	})
}

func (s *Store) GetConversation(ctx context.Context, appID, id string) (*chat.Conversation, error) {
	c, err := scanConversation(s.db.QueryRowContext(ctx,
		s.q("SELECT "+convCols+" FROM conversations WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "conversation")
	}
	return c, nil
}

// pageParams reads a conversation page's size and cursor: the size
// bounded to the store's limits, the cursor decoded to the id the page
// starts after (ids sort by time, newest first).
func pageParams(limit int, cursor string) (int, string, error) {
	switch {
	case limit <= 0:
		limit = store.DefaultPageSize
	case limit > store.MaxPageSize:
		limit = store.MaxPageSize
	}
	if cursor == "" {
		return limit, "", nil
	}
	after, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || chat.ValidateID("cursor", string(after)) != nil {
		return 0, "", chat.FieldError("cursor", "cursor is not valid")
	}
	return limit, string(after), nil
}

func (s *Store) ListConversations(ctx context.Context, appID string, f store.ConversationFilter) (store.ConversationPage, error) {
	limit, after, err := pageParams(f.Limit, f.Cursor)
	if err != nil {
		return store.ConversationPage{}, err
	}
	query := "SELECT " + convCols + " FROM conversations WHERE app_id = ?"
	args := []any{appID}
	if after != "" {
		query += " AND id < ?"
		args = append(args, after)
	}
	if f.Status != nil {
		query += " AND status = ?"
		args = append(args, int(*f.Status))
	}
	switch {
	case f.Unassigned:
		query += " AND assignee_type = ''"
	default:
		if f.AssigneeType != "" {
			query += " AND assignee_type = ?"
			args = append(args, string(f.AssigneeType))
		}
		if f.AssigneeID != "" {
			query += " AND assignee_id = ?"
			args = append(args, f.AssigneeID)
		}
	}
	if f.TeamID != "" {
		query += " AND team_id = ?"
		args = append(args, f.TeamID)
	}
	if f.ContactID != "" {
		query += " AND contact_id = ?"
		args = append(args, f.ContactID)
	}
	// One extra row tells whether another page exists without a COUNT.
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	page := store.ConversationPage{Conversations: []chat.Conversation{}}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return store.ConversationPage{}, fmt.Errorf("list conversations: %w", err)
		}
		page.Conversations = append(page.Conversations, *c)
	}
	if err := wrapRowsErr(rows, "list conversations"); err != nil {
		return store.ConversationPage{}, err
	}
	if len(page.Conversations) > limit {
		page.Conversations = page.Conversations[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Conversations[limit-1].ID))
	}
	return page, nil
}

// UpdateConversation holds the row lock (PostgreSQL) or the single writer
// (SQLite) while fn runs, so fn must be quick and must not call the store.
// The conversation row is locked before the app row (see appendInbox).
func (s *Store) UpdateConversation(ctx context.Context, appID, id string, fn func(*chat.Conversation) error, facts ...*chat.AnalyticsEvent) (*chat.Conversation, error) {
	var out *chat.Conversation
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.updateConversationTx(ctx, tx, appID, id, fn); err != nil {
			return err
		}
		return s.recordFacts(ctx, tx, out, facts)
	})
	return out, err
}

// updateConversationTx is UpdateConversation inside the caller's
// transaction, so that AssignRoundRobin changes a conversation by exactly
// the same rules (checks, stamps, inbox event).
func (s *Store) updateConversationTx(ctx context.Context, tx *sql.Tx, appID, id string, fn func(*chat.Conversation) error) (*chat.Conversation, error) {
	cur, err := scanConversation(tx.QueryRowContext(ctx,
		s.q("SELECT "+convCols+" FROM conversations WHERE app_id = ? AND id = ?"+s.forUpdate()), appID, id))
	if err != nil {
		return nil, notFound(err, "conversation")
	}
	next := *cur
	next.Metadata = cur.Metadata.Clone()
	if cur.Assignee != nil {
		a := *cur.Assignee
		next.Assignee = &a
	}
	if err := fn(&next); err != nil {
		return nil, err
	}
	// Only status, assignee, team and metadata are fn's to change.
	next.ID, next.AppID, next.ContactID, next.LastSeq, next.CreatedAt = cur.ID, cur.AppID, cur.ContactID, cur.LastSeq, cur.CreatedAt
	if next.Metadata == nil {
		next.Metadata = chat.Metadata{}
	}
	if err := s.checkConversationRefs(ctx, tx, &next); err != nil {
		return nil, err
	}
	next.UpdatedAt = s.now()
	aType, aID := assigneeCols(next.Assignee)
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE conversations SET status = ?, assignee_type = ?, assignee_id = ?,
		team_id = ?, metadata = ?, updated_at = ? WHERE app_id = ? AND id = ?`),
		int(next.Status), aType, aID, next.TeamID, encodeMetadata(next.Metadata), micros(next.UpdatedAt), appID, id); err != nil {
		return nil, fmt.Errorf("update conversation: %w", err)
	}
	if err := s.outboxConversation(ctx, tx, cur, &next); err != nil {
		return nil, err
	}
	if kind, ok := chat.InboxKindFor(cur, &next); ok {
		if err := s.appendInbox(ctx, tx, kind, &next); err != nil {
			return nil, err
		}
	}
	return &next, nil
}
