package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const inviteCols = "id, app_id, email, role, token_hash, created_by, created_at, expires_at, accepted_at, agent_id"

func scanInvite(sc interface{ Scan(...any) error }) (*store.Invite, error) {
	var inv store.Invite
	var created, expires int64
	var accepted sql.NullInt64
	var role string
	if err := sc.Scan(&inv.ID, &inv.AppID, &inv.Email, &role, &inv.TokenHash, &inv.CreatedBy, &created, &expires, &accepted, &inv.AgentID); err != nil {
		return nil, err
	}
	inv.Role = chat.Role(role)
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	if accepted.Valid {
		t := fromMicros(accepted.Int64)
		inv.AcceptedAt = &t
	}
	return &inv, nil
}

func (s *Store) CreateInvite(ctx context.Context, inv *store.Invite) error {
	if inv.ID == "" {
		inv.ID = chat.NewID()
	}
	inv.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, inv.AppID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO invites (id, app_id, email, role, token_hash, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			inv.ID, inv.AppID, inv.Email, string(inv.Role), inv.TokenHash, inv.CreatedBy, micros(inv.CreatedAt), micros(inv.ExpiresAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "an invitation with this id or token already exists")
			}
			return fmt.Errorf("create invite: %w", err)
		}
		return nil
	})
}

func (s *Store) InviteByTokenHash(ctx context.Context, hash []byte) (*store.Invite, error) {
	inv, err := scanInvite(s.db.QueryRowContext(ctx, s.q("SELECT "+inviteCols+
		" FROM invites WHERE token_hash = ? AND accepted_at IS NULL AND expires_at > ?"), hash, micros(s.now())))
	if err != nil {
		return nil, notFound(err, "invitation")
	}
	return inv, nil
}

func (s *Store) ListInvites(ctx context.Context, appID string) ([]store.Invite, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+inviteCols+
		" FROM invites WHERE app_id = ? AND accepted_at IS NULL AND expires_at > ? ORDER BY id DESC"), appID, micros(s.now()))
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	out := []store.Invite{}
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		out = append(out, *inv)
	}
	return out, wrapRowsErr(rows, "list invites")
}

func (s *Store) DeleteInvite(ctx context.Context, appID, id string) error {
	res, err := s.wdb.ExecContext(ctx, s.q("DELETE FROM invites WHERE app_id = ? AND id = ? AND accepted_at IS NULL"), appID, id)
	if err != nil {
		return fmt.Errorf("delete invite: %w", err)
	}
	return requireOneRow(res, "invitation")
}

func (s *Store) AcceptInvite(ctx context.Context, hash []byte, a *chat.Agent) error {
	if a.ID == "" {
		a.ID = chat.NewID()
	}
	if a.Presence == "" {
		a.Presence = chat.PresenceOffline
	}
	now := s.now()
	a.CreatedAt = now
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Claiming first, with the conditions in the UPDATE, is what makes
		// the link single-use: a second transaction finds no row to claim.
		var appID, role string
		err := tx.QueryRowContext(ctx, s.q(`UPDATE invites SET accepted_at = ?, agent_id = ?
			WHERE token_hash = ? AND accepted_at IS NULL AND expires_at > ? RETURNING app_id, role`),
			micros(now), a.ID, hash, micros(now)).Scan(&appID, &role)
		if err != nil {
			return notFound(err, "invitation")
		}
		a.AppID, a.Role = appID, chat.Role(role)
		return s.insertAgent(ctx, tx, a)
	})
}

func (s *Store) LastHandoff(ctx context.Context, appID, conversationID string) (*chat.AnalyticsEvent, bool, error) {
	e, err := scanEvent(s.db.QueryRowContext(ctx, s.q("SELECT "+eventCols+
		" FROM analytics_events WHERE conversation_id = ? AND kind = ? AND app_id = ? ORDER BY at DESC, n DESC LIMIT 1"),
		conversationID, string(chat.AnalyticsHandedOff), appID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("last handoff: %w", err)
	}
	return e, true, nil
}

// likeEscaper makes a search text literal inside a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func (s *Store) ListInbox(ctx context.Context, appID string, q store.InboxQuery) (store.InboxPage, error) {
	limit, after, err := pageParams(q.Limit, q.Cursor)
	if err != nil {
		return store.InboxPage{}, err
	}
	query := "SELECT " + convCols + " FROM conversations WHERE app_id = ?"
	args := []any{appID}
	if after != "" {
		query += " AND id < ?"
		args = append(args, after)
	}
	if len(q.Statuses) > 0 {
		query += " AND status IN (?" + strings.Repeat(", ?", len(q.Statuses)-1) + ")"
		for _, st := range q.Statuses {
			args = append(args, int(st))
		}
	}
	switch {
	case q.Unassigned:
		query += " AND assignee_type = ''"
	default:
		if q.AssigneeType != "" {
			query += " AND assignee_type = ?"
			args = append(args, string(q.AssigneeType))
		}
		if q.AssigneeID != "" {
			query += " AND assignee_id = ?"
			args = append(args, q.AssigneeID)
		}
	}
	if q.TeamID != "" {
		query += " AND team_id = ?"
		args = append(args, q.TeamID)
	}
	if text := strings.TrimSpace(q.Search); text != "" {
		like := "%" + likeEscaper.Replace(strings.ToLower(text)) + "%"
		query += ` AND (id = ? OR contact_id IN (SELECT id FROM contacts WHERE app_id = ? AND
			(LOWER(name) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\' OR user_id = ?)))`
		args = append(args, text, appID, like, like, text)
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return store.InboxPage{}, fmt.Errorf("list inbox: %w", err)
	}
	defer rows.Close()
	var convs []chat.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return store.InboxPage{}, fmt.Errorf("list inbox: %w", err)
		}
		convs = append(convs, *c)
	}
	if err := wrapRowsErr(rows, "list inbox"); err != nil {
		return store.InboxPage{}, err
	}
	page := store.InboxPage{Items: []store.InboxItem{}}
	if len(convs) > limit {
		convs = convs[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(convs[limit-1].ID))
	}
	contacts, err := s.contactsByID(ctx, appID, convs)
	if err != nil {
		return store.InboxPage{}, err
	}
	for _, c := range convs {
		page.Items = append(page.Items, store.InboxItem{Conversation: c, Contact: contacts[c.ContactID]})
	}
	return page, nil
}

// contactsByID reads the contacts of a page of conversations in one query.
func (s *Store) contactsByID(ctx context.Context, appID string, convs []chat.Conversation) (map[string]chat.Contact, error) {
	out := make(map[string]chat.Contact, len(convs))
	if len(convs) == 0 {
		return out, nil
	}
	args := []any{appID}
	seen := map[string]bool{}
	for _, c := range convs {
		if !seen[c.ContactID] {
			seen[c.ContactID] = true
			args = append(args, c.ContactID)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+contactCols+" FROM contacts WHERE app_id = ? AND id IN (?"+strings.Repeat(", ?", len(args)-2)+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("inbox contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ct, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("inbox contacts: %w", err)
		}
		out[ct.ID] = *ct
	}
	return out, wrapRowsErr(rows, "inbox contacts")
}

func (s *Store) AddNote(ctx context.Context, n *store.Note) error {
	if n.ID == "" {
		n.ID = chat.NewID()
	}
	n.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), n.AppID, n.ConversationID)
		if err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		if !ok {
			return chat.NotFound("conversation")
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO conversation_notes (id, app_id, conversation_id, agent_id, text, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`), n.ID, n.AppID, n.ConversationID, n.AgentID, n.Text, micros(n.CreatedAt))
		if err != nil {
			return fmt.Errorf("add note: %w", err)
		}
		return nil
	})
}

func (s *Store) ListNotes(ctx context.Context, appID, conversationID string) ([]store.Note, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, app_id, conversation_id, agent_id, text, created_at FROM conversation_notes
		WHERE conversation_id = ? AND app_id = ? ORDER BY id`), conversationID, appID)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	defer rows.Close()
	out := []store.Note{}
	for rows.Next() {
		var n store.Note
		var at int64
		if err := rows.Scan(&n.ID, &n.AppID, &n.ConversationID, &n.AgentID, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("list notes: %w", err)
		}
		n.CreatedAt = fromMicros(at)
		out = append(out, n)
	}
	return out, wrapRowsErr(rows, "list notes")
}
