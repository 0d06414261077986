package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

const cannedCols = "id, app_id, shortcut, text, created_at, updated_at"

func scanCanned(sc interface{ Scan(...any) error }) (chat.CannedReply, error) {
	var r chat.CannedReply
	var created, updated int64
	err := sc.Scan(&r.ID, &r.AppID, &r.Shortcut, &r.Text, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, err
}

// cannedWriteErr names a taken shortcut for the admin who typed it.
func (s *Store) cannedWriteErr(op string, err error) error {
	if s.isUnique(err) {
		return chat.Errorf(chat.CodeConflict, "another canned reply has this shortcut").WithDetail("field", "shortcut")
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (s *Store) CreateCannedReply(ctx context.Context, r *chat.CannedReply) error {
	if r.ID == "" {
		r.ID = chat.NewID()
	}
	r.CreatedAt = s.now()
	r.UpdatedAt = r.CreatedAt
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The app's row is locked first, so that creates count one after
		// another and two of them cannot both pass the cap (SQLite's one
		// writer does that anyway). NO KEY UPDATE leaves the row free for
		// the key-share locks of inserts that reference it elsewhere.
		if err := s.lockApp(ctx, tx, r.AppID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM canned_replies WHERE app_id = ?"), r.AppID).Scan(&n); err != nil {
			return fmt.Errorf("create canned reply: %w", err)
		}
		if n >= chat.MaxCannedReplies {
			return chat.Errorf(chat.CodeInvalid, "an app has at most %d canned replies", chat.MaxCannedReplies)
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO canned_replies ("+cannedCols+") VALUES (?, ?, ?, ?, ?, ?)"),
			r.ID, r.AppID, r.Shortcut, r.Text, micros(r.CreatedAt), micros(r.UpdatedAt))
		if err != nil {
			return s.cannedWriteErr("create canned reply", err)
		}
		return nil
	})
}

func (s *Store) UpdateCannedReply(ctx context.Context, r *chat.CannedReply) error {
	r.UpdatedAt = s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE canned_replies SET shortcut = ?, text = ?, updated_at = ? WHERE app_id = ? AND id = ?"),
			r.Shortcut, r.Text, micros(r.UpdatedAt), r.AppID, r.ID)
		if err != nil {
			return s.cannedWriteErr("update canned reply", err)
		}
		if err := requireOneRow(res, "canned reply"); err != nil {
			return err
		}
		stored, err := scanCanned(tx.QueryRowContext(ctx, s.q("SELECT "+cannedCols+" FROM canned_replies WHERE app_id = ? AND id = ?"), r.AppID, r.ID))
		if err != nil {
			return fmt.Errorf("update canned reply: %w", err)
		}
		*r = stored
		return nil
	})
}

func (s *Store) DeleteCannedReply(ctx context.Context, appID, id string) error {
	res, err := s.wdb.ExecContext(ctx, s.q("DELETE FROM canned_replies WHERE app_id = ? AND id = ?"), appID, id)
	if err != nil {
		return fmt.Errorf("delete canned reply: %w", err)
	}
	return requireOneRow(res, "canned reply")
}

func (s *Store) ListCannedReplies(ctx context.Context, appID string) ([]chat.CannedReply, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+cannedCols+" FROM canned_replies WHERE app_id = ? ORDER BY shortcut"), appID)
	if err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	defer rows.Close()
	out := []chat.CannedReply{}
	for rows.Next() {
		r, err := scanCanned(rows)
		if err != nil {
			return nil, fmt.Errorf("list canned replies: %w", err)
		}
		out = append(out, r)
	}
	return out, wrapRowsErr(rows, "list canned replies")
}
