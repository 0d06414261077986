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

func (s *Store) CreateApp(ctx context.Context, app *chat.App) error {
	if app.ID == "" {
		app.ID = chat.NewID()
	}
	app.CreatedAt = s.now()
	_, err := s.wdb.ExecContext(ctx, s.q("INSERT INTO apps (id, name, created_at) VALUES (?, ?, ?)"),
		app.ID, app.Name, micros(app.CreatedAt))
	if err != nil {
		if s.isUnique(err) {
			return chat.Errorf(chat.CodeConflict, "app id already exists").WithDetail("field", "id")
		}
		return fmt.Errorf("create app: %w", err)
	}
	return nil
}

func (s *Store) GetApp(ctx context.Context, id string) (*chat.App, error) {
	var a chat.App
	var created int64
	err := s.db.QueryRowContext(ctx, s.q("SELECT id, name, created_at FROM apps WHERE id = ?"), id).
		Scan(&a.ID, &a.Name, &created)
	if err != nil {
		return nil, notFound(err, "app")
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func (s *Store) ListApps(ctx context.Context) ([]chat.App, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, created_at FROM apps ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	defer rows.Close()
	out := []chat.App{}
	for rows.Next() {
		var a chat.App
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		a.CreatedAt = fromMicros(created)
		out = append(out, a)
	}
	return out, wrapRowsErr(rows, "list apps")
}

func wrapRowsErr(rows *sql.Rows, what string) error {
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// requireApp answers NotFound for an unknown app, inside the caller's
// transaction so the check and the insert see the same state.
func (s *Store) requireApp(ctx context.Context, q queryer, appID string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM apps WHERE id = ?"), appID)
	if err != nil {
		return fmt.Errorf("check app: %w", err)
	}
	if !ok {
		return chat.NotFound("app")
	}
	return nil
}

// lockApp is requireApp that also holds the app's row until tx ends, on
// PostgreSQL, to serialise changes bounded per app.
func (s *Store) lockApp(ctx context.Context, tx *sql.Tx, appID string) error {
	lock := ""
	if s.flavor == Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	ok, err := exists(ctx, tx, s.q("SELECT 1 FROM apps WHERE id = ?"+lock), appID)
	if err != nil {
		return fmt.Errorf("lock app: %w", err)
	}
	if !ok {
		return chat.NotFound("app")
	}
	return nil
}

const agentCols = "id, app_id, email, name, role, presence, password_hash, created_at"

func scanAgent(sc interface{ Scan(...any) error }) (*chat.Agent, error) {
	var a chat.Agent
	var created int64
	if err := sc.Scan(&a.ID, &a.AppID, &a.Email, &a.Name, &a.Role, &a.Presence, &a.PasswordHash, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

func (s *Store) CreateAgent(ctx context.Context, a *chat.Agent) error {
	if a.ID == "" {
		a.ID = chat.NewID()
	}
	if a.Presence == "" {
		a.Presence = chat.PresenceOffline
	}
	a.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, a.AppID); err != nil {
			return err
		}
		return s.insertAgent(ctx, tx, a)
	})
}

// insertAgent adds a, whose fields are complete, in tx. Creating an agent
// and accepting an invitation both end here.
func (s *Store) insertAgent(ctx context.Context, tx *sql.Tx, a *chat.Agent) error {
	_, err := tx.ExecContext(ctx, s.q("INSERT INTO agents ("+agentCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		a.ID, a.AppID, a.Email, a.Name, string(a.Role), string(a.Presence), a.PasswordHash, micros(a.CreatedAt))
	if err != nil {
		if s.isUnique(err) {
			return chat.Errorf(chat.CodeConflict, "an agent with this email already exists").WithDetail("field", "email")
		}
		return fmt.Errorf("create agent: %w", err)
	}
	return nil
}

func (s *Store) GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, s.q("SELECT "+agentCols+" FROM agents WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "agent")
	}
	return a, nil
}

func (s *Store) AgentByEmail(ctx context.Context, email string) (*chat.Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, s.q("SELECT "+agentCols+" FROM agents WHERE email = ?"), email))
	if err != nil {
		return nil, notFound(err, "agent")
	}
	return a, nil
}

func (s *Store) ListAgents(ctx context.Context, appID string) ([]chat.Agent, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+agentCols+" FROM agents WHERE app_id = ? ORDER BY id"), appID)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	out := []chat.Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		out = append(out, *a)
	}
	return out, wrapRowsErr(rows, "list agents")
}

func (s *Store) SetAgentPresence(ctx context.Context, appID, id string, p chat.Presence) (*chat.Agent, error) {
	if !p.Valid() {
		return nil, chat.FieldError("status", "presence must be online, away or offline")
	}
	var a *chat.Agent
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanAgent(tx.QueryRowContext(ctx,
			s.q("UPDATE agents SET presence = ? WHERE app_id = ? AND id = ? RETURNING "+agentCols), string(p), appID, id))
		if err != nil {
			return notFound(err, "agent")
		}
		return nil
	})
	return a, err
}

func (s *Store) SetAgentPassword(ctx context.Context, appID, id, hash string) error {
	res, err := s.wdb.ExecContext(ctx, s.q("UPDATE agents SET password_hash = ? WHERE app_id = ? AND id = ?"), hash, appID, id)
	if err != nil {
		return fmt.Errorf("set agent password: %w", err)
	}
	return requireOneRow(res, "agent")
}

func requireOneRow(res sql.Result, kind string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if n == 0 {
		return chat.NotFound(kind)
	}
	return nil
}

func (s *Store) CreateTeam(ctx context.Context, t *chat.Team) error {
	if t.ID == "" {
		t.ID = chat.NewID()
	}
	t.CreatedAt = s.now()
	if t.AgentIDs == nil {
		t.AgentIDs = []string{}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, t.AppID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("INSERT INTO teams (id, app_id, name, created_at) VALUES (?, ?, ?, ?)"),
			t.ID, t.AppID, t.Name, micros(t.CreatedAt)); err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "team id already exists").WithDetail("field", "id")
			}
			return fmt.Errorf("create team: %w", err)
		}
		seen := map[string]bool{}
		for i, agentID := range t.AgentIDs {
			if seen[agentID] {
				continue
			}
			seen[agentID] = true
			ok, err := exists(ctx, tx, s.q("SELECT 1 FROM agents WHERE app_id = ? AND id = ?"), t.AppID, agentID)
			if err != nil {
				return fmt.Errorf("create team: check agent: %w", err)
			}
			if !ok {
				return chat.FieldError("agentIds", "agent %q is not an agent of this app", agentID)
			}
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO team_members (team_id, agent_id, position) VALUES (?, ?, ?)"),
				t.ID, agentID, i); err != nil {
				return fmt.Errorf("create team: add member: %w", err)
			}
		}
		return nil
	})
}

func (s *Store) GetTeam(ctx context.Context, appID, id string) (*chat.Team, error) {
	teams, err := s.listTeams(ctx, appID, id)
	if err != nil {
		return nil, err
	}
	if len(teams) == 0 {
		return nil, chat.NotFound("team")
	}
	return &teams[0], nil
}

func (s *Store) ListTeams(ctx context.Context, appID string) ([]chat.Team, error) {
	return s.listTeams(ctx, appID, "")
}

// listTeams reads teams with their members in one query; onlyID narrows it to one.
func (s *Store) listTeams(ctx context.Context, appID, onlyID string) ([]chat.Team, error) {
	query := `SELECT t.id, t.app_id, t.name, t.created_at, COALESCE(m.agent_id, '')
		FROM teams t LEFT JOIN team_members m ON m.team_id = t.id
		WHERE t.app_id = ?`
	args := []any{appID}
	if onlyID != "" {
		query += " AND t.id = ?"
		args = append(args, onlyID)
	}
	query += " ORDER BY t.id, m.position"
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	out := []chat.Team{}
	for rows.Next() {
		var t chat.Team
		var created int64
		var member string
		if err := rows.Scan(&t.ID, &t.AppID, &t.Name, &created, &member); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ID != t.ID {
			t.CreatedAt = fromMicros(created)
			t.AgentIDs = []string{}
			out = append(out, t)
		}
		if member != "" {
			last := &out[len(out)-1]
			last.AgentIDs = append(last.AgentIDs, member)
		}
	}
	return out, wrapRowsErr(rows, "list teams")
}

const botCols = "id, app_id, type, name, avatar_url, enabled, auto_handoff, settings, created_at, status, status_detail"

func scanBot(sc interface{ Scan(...any) error }) (*chat.Bot, error) {
	var b chat.Bot
	var created int64
	var settings string
	if err := sc.Scan(&b.ID, &b.AppID, &b.Type, &b.Name, &b.AvatarURL, &b.Enabled, &b.AutoHandoff, &settings, &created, &b.Status, &b.StatusDetail); err != nil {
		return nil, err
	}
	if settings != "" {
		b.Settings = json.RawMessage(settings)
	}
	b.CreatedAt = fromMicros(created)
	return &b, nil
}

func (s *Store) CreateBot(ctx context.Context, b *chat.Bot) error {
	if b.ID == "" {
		b.ID = chat.NewID()
	}
	b.CreatedAt = s.now()
	if b.Status == "" {
		b.Status = chat.BotStatusOK
	}
	if !b.Status.Valid() {
		return chat.FieldError("status", "unknown bot status %q", b.Status)
	}
	b.StatusDetail = chat.TrimNote(b.StatusDetail)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, b.AppID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO bots ("+botCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			b.ID, b.AppID, string(b.Type), b.Name, b.AvatarURL, b.Enabled, b.AutoHandoff, string(b.Settings), micros(b.CreatedAt),
			string(b.Status), b.StatusDetail)
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "bot id already exists").WithDetail("field", "id")
			}
			return fmt.Errorf("create bot: %w", err)
		}
		return nil
	})
}

func (s *Store) GetBot(ctx context.Context, appID, id string) (*chat.Bot, error) {
	b, err := scanBot(s.db.QueryRowContext(ctx, s.q("SELECT "+botCols+" FROM bots WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "bot")
	}
	return b, nil
}

func (s *Store) SetBotStatus(ctx context.Context, appID, id string, status chat.BotStatus, detail string) error {
	if !status.Valid() {
		return chat.FieldError("status", "unknown bot status %q", status)
	}
	res, err := s.wdb.ExecContext(ctx, s.q("UPDATE bots SET status = ?, status_detail = ? WHERE app_id = ? AND id = ?"),
		string(status), chat.TrimNote(detail), appID, id)
	if err != nil {
		return fmt.Errorf("set bot status: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set bot status: %w", err)
	} else if n == 0 {
		return chat.NotFound("bot")
	}
	return nil
}

func (s *Store) ListBots(ctx context.Context, appID string) ([]chat.Bot, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+botCols+" FROM bots WHERE app_id = ? ORDER BY id"), appID)
	if err != nil {
		return nil, fmt.Errorf("list bots: %w", err)
	}
	defer rows.Close()
	out := []chat.Bot{}
	for rows.Next() {
		b, err := scanBot(rows)
		if err != nil {
			return nil, fmt.Errorf("list bots: %w", err)
		}
		out = append(out, *b)
	}
	return out, wrapRowsErr(rows, "list bots")
}

const contactCols = "id, app_id, user_id, name, email, language, chat_context, created_at, updated_at"

func scanContact(sc interface{ Scan(...any) error }) (*chat.Contact, error) {
	var c chat.Contact
	var created, updated int64
	var chatCtx string
	if err := sc.Scan(&c.ID, &c.AppID, &c.UserID, &c.Name, &c.Email, &c.Language, &chatCtx, &created, &updated); err != nil {
		return nil, err
	}
	if chatCtx != "" {
		c.ChatContext = json.RawMessage(chatCtx)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func (s *Store) CreateContact(ctx context.Context, c *chat.Contact) error {
	if c.ID == "" {
		c.ID = chat.NewID()
	}
	c.CreatedAt = s.now()
	c.UpdatedAt = c.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, c.AppID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO contacts ("+contactCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			c.ID, c.AppID, c.UserID, c.Name, c.Email, c.Language, string(c.ChatContext), micros(c.CreatedAt), micros(c.UpdatedAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "a contact with this userId already exists").WithDetail("field", "userId")
			}
			return fmt.Errorf("create contact: %w", err)
		}
		return nil
	})
}

func (s *Store) GetContact(ctx context.Context, appID, id string) (*chat.Contact, error) {
	c, err := scanContact(s.db.QueryRowContext(ctx, s.q("SELECT "+contactCols+" FROM contacts WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "contact")
	}
	return c, nil
}

func (s *Store) ContactByUserID(ctx context.Context, appID, userID string) (*chat.Contact, error) {
	if userID == "" {
		return nil, chat.NotFound("contact")
	}
	c, err := scanContact(s.db.QueryRowContext(ctx, s.q("SELECT "+contactCols+" FROM contacts WHERE app_id = ? AND user_id = ?"), appID, userID))
	if err != nil {
		return nil, notFound(err, "contact")
	}
	return c, nil
}

func (s *Store) UpdateContact(ctx context.Context, appID, id string, u store.ContactUpdate) (*chat.Contact, error) {
	var out *chat.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanContact(tx.QueryRowContext(ctx,
			s.q("SELECT "+contactCols+" FROM contacts WHERE app_id = ? AND id = ?"+s.forUpdate()), appID, id))
		if err != nil {
			return notFound(err, "contact")
		}
		if u.Name != nil {
			c.Name = *u.Name
		}
		if u.Email != nil {
			c.Email = *u.Email
		}
		if u.Language != nil {
			c.Language = *u.Language
		}
		if u.ChatContext != nil {
			c.ChatContext = u.ChatContext
		}
		c.UpdatedAt = s.now()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET name = ?, email = ?, language = ?, chat_context = ?, updated_at = ?
			WHERE app_id = ? AND id = ?`),
			c.Name, c.Email, c.Language, string(c.ChatContext), micros(c.UpdatedAt), appID, id); err != nil {
			return fmt.Errorf("update contact: %w", err)
		}
		out = c
		return nil
	})
	return out, err
}

const uploadCols = "id, app_id, name, mime_type, size, storage_key, created_at"

func scanUpload(sc interface{ Scan(...any) error }) (*chat.Upload, error) {
	var u chat.Upload
	var created int64
	if err := sc.Scan(&u.ID, &u.AppID, &u.Name, &u.MimeType, &u.Size, &u.Key, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

func (s *Store) CreateUpload(ctx context.Context, u *chat.Upload) error {
	if u.ID == "" {
		u.ID = chat.NewID()
	}
	u.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, u.AppID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO uploads ("+uploadCols+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
			u.ID, u.AppID, u.Name, u.MimeType, u.Size, u.Key, micros(u.CreatedAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "upload id already exists").WithDetail("field", "id")
			}
			return fmt.Errorf("create upload: %w", err)
		}
		return nil
	})
}

func (s *Store) GetUpload(ctx context.Context, appID, id string) (*chat.Upload, error) {
	u, err := scanUpload(s.db.QueryRowContext(ctx, s.q("SELECT "+uploadCols+" FROM uploads WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "upload")
	}
	return u, nil
}

const apiKeyCols = "id, app_id, name, prefix, hash, created_at, last_used_at"

func scanAPIKey(sc interface{ Scan(...any) error }) (*chat.APIKey, error) {
	var k chat.APIKey
	var created int64
	var lastUsed sql.NullInt64
	if err := sc.Scan(&k.ID, &k.AppID, &k.Name, &k.Prefix, &k.Hash, &created, &lastUsed); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(created)
	if lastUsed.Valid {
		t := fromMicros(lastUsed.Int64)
		k.LastUsedAt = &t
	}
	return &k, nil
}

func (s *Store) CreateAPIKey(ctx context.Context, k *chat.APIKey) error {
	if k.ID == "" {
		k.ID = chat.NewID()
	}
	k.CreatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, k.AppID); err != nil {
			return err
		}
		var lastUsed sql.NullInt64
		if k.LastUsedAt != nil {
			lastUsed = sql.NullInt64{Int64: micros(*k.LastUsedAt), Valid: true}
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO api_keys ("+apiKeyCols+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
			k.ID, k.AppID, k.Name, k.Prefix, k.Hash, micros(k.CreatedAt), lastUsed)
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "an API key with this prefix or id already exists").WithDetail("field", "prefix")
			}
			return fmt.Errorf("create api key: %w", err)
		}
		return nil
	})
}

func (s *Store) APIKeyByPrefix(ctx context.Context, prefix string) (*chat.APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.q("SELECT "+apiKeyCols+" FROM api_keys WHERE prefix = ?"), prefix))
	if err != nil {
		return nil, notFound(err, "api key")
	}
	return k, nil
}

func (s *Store) ListAPIKeys(ctx context.Context, appID string) ([]chat.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+apiKeyCols+" FROM api_keys WHERE app_id = ? ORDER BY id"), appID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	out := []chat.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, *k)
	}
	return out, wrapRowsErr(rows, "list api keys")
}

func (s *Store) DeleteAPIKey(ctx context.Context, appID, id string) error {
	res, err := s.wdb.ExecContext(ctx, s.q("DELETE FROM api_keys WHERE app_id = ? AND id = ?"), appID, id)
	if err != nil {
		return fmt.Errorf("delete api key: %w", err)
	}
	return requireOneRow(res, "api key")
}

func (s *Store) CreateSession(ctx context.Context, sess *chat.Session) error {
	sess.CreatedAt = s.now()
	sess.ExpiresAt = sess.ExpiresAt.UTC().Truncate(time.Microsecond)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM agents WHERE app_id = ? AND id = ?"), sess.AppID, sess.AgentID)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		if !ok {
			return chat.NotFound("agent")
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO sessions (token_hash, app_id, agent_id, csrf_token, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`),
			sess.TokenHash, sess.AppID, sess.AgentID, sess.CSRFToken, micros(sess.CreatedAt), micros(sess.ExpiresAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "session already exists")
			}
			return fmt.Errorf("create session: %w", err)
		}
		return nil
	})
}

func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte) (*chat.Session, error) {
	var sess chat.Session
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT token_hash, app_id, agent_id, csrf_token, created_at, expires_at
		FROM sessions WHERE token_hash = ? AND expires_at > ?`), hash, micros(s.now())).
		Scan(&sess.TokenHash, &sess.AppID, &sess.AgentID, &sess.CSRFToken, &created, &expires)
	if err != nil {
		return nil, notFound(err, "session")
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &sess, nil
}

func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	// Deleting an absent session is not an error: logout must be idempotent.
	if _, err := s.wdb.ExecContext(ctx, s.q("DELETE FROM sessions WHERE token_hash = ?"), hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
