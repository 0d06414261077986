package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// appRulesTeam is the team_id of an app's own rules row.
const appRulesTeam = ""

// lockRules returns the stored rules document of (appID, teamID), holding
// the row's lock until tx ends. The row is created empty first when missing,
// because a row that does not exist cannot be locked: two writers would both
// read "nothing stored" and the second would overwrite the first.
func (s *Store) lockRules(ctx context.Context, tx *sql.Tx, appID, teamID string) (string, error) {
	if _, err := tx.ExecContext(ctx, s.q(
		"INSERT INTO rules (app_id, team_id, doc, updated_at) VALUES (?, ?, '', ?) ON CONFLICT (app_id, team_id) DO NOTHING"),
		appID, teamID, micros(s.now())); err != nil {
		return "", fmt.Errorf("lock rules: %w", err)
	}
	var doc string
	err := tx.QueryRowContext(ctx, s.q("SELECT doc FROM rules WHERE app_id = ? AND team_id = ?"+s.forUpdate()), appID, teamID).Scan(&doc)
	if err != nil {
		return "", fmt.Errorf("lock rules: %w", err)
	}
	return doc, nil
}

func (s *Store) writeRules(ctx context.Context, tx *sql.Tx, appID, teamID string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode rules: %w", err)
	}
	_, err = tx.ExecContext(ctx, s.q("UPDATE rules SET doc = ?, updated_at = ? WHERE app_id = ? AND team_id = ?"),
		string(doc), micros(s.now()), appID, teamID)
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}

func decodeAppRules(doc string) (*store.AppRules, error) {
	r := &store.AppRules{Rules: chat.DefaultRules()}
	if doc == "" {
		return r, nil
	}
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return nil, fmt.Errorf("decode app rules: %w", err)
	}
	return r, nil
}

func decodeTeamRules(doc string) (*store.TeamRules, error) {
	r := &store.TeamRules{}
	if doc == "" {
		return r, nil
	}
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return nil, fmt.Errorf("decode team rules: %w", err)
	}
	return r, nil
}

func (s *Store) GetAppRules(ctx context.Context, appID string) (*store.AppRules, error) {
	var doc string
	err := s.db.QueryRowContext(ctx, s.q("SELECT doc FROM rules WHERE app_id = ? AND team_id = ?"), appID, appRulesTeam).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.requireApp(ctx, s.db, appID); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("get app rules: %w", err)
	}
	return decodeAppRules(doc)
}

func (s *Store) UpdateAppRules(ctx context.Context, appID string, fn func(*store.AppRules) error) (*store.AppRules, error) {
	var out *store.AppRules
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireApp(ctx, tx, appID); err != nil {
			return err
		}
		doc, err := s.lockRules(ctx, tx, appID, appRulesTeam)
		if err != nil {
			return err
		}
		r, err := decodeAppRules(doc)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		out = r
		return s.writeRules(ctx, tx, appID, appRulesTeam, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// requireTeam answers NotFound for a team that is not the app's.
func (s *Store) requireTeam(ctx context.Context, q queryer, appID, teamID string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM teams WHERE app_id = ? AND id = ?"), appID, teamID)
	if err != nil {
		return fmt.Errorf("check team: %w", err)
	}
	if !ok {
		return chat.NotFound("team")
	}
	return nil
}

func (s *Store) GetTeamRules(ctx context.Context, appID, teamID string) (*store.TeamRules, error) {
	if err := s.requireTeam(ctx, s.db, appID, teamID); err != nil {
		return nil, err
	}
	var doc string
	err := s.db.QueryRowContext(ctx, s.q("SELECT doc FROM rules WHERE app_id = ? AND team_id = ?"), appID, teamID).Scan(&doc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get team rules: %w", err)
	}
	return decodeTeamRules(doc)
}

func (s *Store) PutTeamRules(ctx context.Context, appID, teamID string, r store.TeamRules) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireTeam(ctx, tx, appID, teamID); err != nil {
			return err
		}
		if _, err := s.lockRules(ctx, tx, appID, teamID); err != nil {
			return err
		}
		return s.writeRules(ctx, tx, appID, teamID, r)
	})
}

func (s *Store) UpdateBot(ctx context.Context, appID, id string, fn func(*chat.Bot, *store.AppRules) error) (*chat.Bot, error) {
	var out *chat.Bot
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		b, err := scanBot(tx.QueryRowContext(ctx, s.q("SELECT "+botCols+" FROM bots WHERE app_id = ? AND id = ?"+s.forUpdate()), appID, id))
		if err != nil {
			return notFound(err, "bot")
		}
		doc, err := s.lockRules(ctx, tx, appID, appRulesTeam)
		if err != nil {
			return err
		}
		r, err := decodeAppRules(doc)
		if err != nil {
			return err
		}
		// fn may change only what an admin may change; identity and
		// ownership are restored whatever it did.
		want := *b
		if err := fn(b, r); err != nil {
			return err
		}
		b.ID, b.AppID, b.Type, b.CreatedAt = want.ID, want.AppID, want.Type, want.CreatedAt
		if _, err := tx.ExecContext(ctx, s.q("UPDATE bots SET name = ?, avatar_url = ?, enabled = ?, auto_handoff = ?, settings = ? WHERE app_id = ? AND id = ?"),
			b.Name, b.AvatarURL, b.Enabled, b.AutoHandoff, string(b.Settings), appID, id); err != nil {
			return fmt.Errorf("update bot: %w", err)
		}
		if err := s.writeRules(ctx, tx, appID, appRulesTeam, r); err != nil {
			return err
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) DeleteBot(ctx context.Context, appID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the bot row makes two deletes of one bot queue up; the
		// second then finds no row.
		if _, err := scanBot(tx.QueryRowContext(ctx, s.q("SELECT "+botCols+" FROM bots WHERE app_id = ? AND id = ?"+s.forUpdate()), appID, id)); err != nil {
			return notFound(err, "bot")
		}
		busy, err := exists(ctx, tx, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND assignee_type = ? AND assignee_id = ? AND status NOT IN (?, ?, ?) LIMIT 1"),
			appID, string(chat.AssigneeBot), id, int(chat.StatusResolved), int(chat.StatusSpam), int(chat.StatusDuplicate))
		if err != nil {
			return fmt.Errorf("delete bot: %w", err)
		}
		if busy {
			return chat.Errorf(chat.CodeConflict, "the bot is assigned to open conversations: hand them over or resolve them first, or disable the bot instead")
		}
		if err := s.forgetBotInRules(ctx, tx, appID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM bots WHERE app_id = ? AND id = ?"), appID, id); err != nil {
			return fmt.Errorf("delete bot: %w", err)
		}
		return nil
	})
}

// forgetBotInRules turns bot routing off wherever it named the bot: with
// the bot gone, new conversations go to people, which is what routing does
// for an unavailable bot anyway.
func (s *Store) forgetBotInRules(ctx context.Context, tx *sql.Tx, appID, botID string) error {
	rows, err := tx.QueryContext(ctx, s.q("SELECT team_id, doc FROM rules WHERE app_id = ?"+s.forUpdate()), appID)
	if err != nil {
		return fmt.Errorf("delete bot: read rules: %w", err)
	}
	type change struct {
		team string
		doc  any
	}
	var changes []change
	for rows.Next() {
		var team, doc string
		if err := rows.Scan(&team, &doc); err != nil {
			rows.Close()
			return fmt.Errorf("delete bot: read rules: %w", err)
		}
		if team == appRulesTeam {
			r, err := decodeAppRules(doc)
			if err != nil {
				rows.Close()
				return err
			}
			if r.Rules.HandleAllBotID == botID {
				r.Rules.BotRouting, r.Rules.HandleAllBotID = false, ""
				changes = append(changes, change{team, r})
			}
			continue
		}
		r, err := decodeTeamRules(doc)
		if err != nil {
			rows.Close()
			return err
		}
		if o := &r.Override; o.HandleAllBotID != nil && *o.HandleAllBotID == botID {
			off := false
			o.BotRouting, o.HandleAllBotID = &off, nil
			changes = append(changes, change{team, r})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("delete bot: read rules: %w", err)
	}
	for _, c := range changes {
		if err := s.writeRules(ctx, tx, appID, c.team, c.doc); err != nil {
			return err
		}
	}
	return nil
}
