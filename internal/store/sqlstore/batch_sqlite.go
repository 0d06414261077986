package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// sqliteBatch applies a batch with one statement per row, each kept
// prepared by the connection (CacheStatements). SQLite is in-process, so a
// statement costs microseconds and there are no round trips to save; the
// batch's one commit (one fsync) is what matters.
type sqliteBatch struct{ s *Store }

func (b sqliteBatch) lockConversations(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*convState, error) {
	// The write transaction began IMMEDIATE on the single writer connection,
	// so these rows cannot change under us: no row lock is needed.
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return queryConvStates(ctx, tx, "SELECT id, app_id, last_seq FROM conversations WHERE id IN ("+inList(len(ids))+")", args...)
}

func (b sqliteBatch) findByClientKey(ctx context.Context, tx *sql.Tx, keys []convKey) (map[convKey]*chat.Message, error) {
	const query = "SELECT " + msgCols + " FROM messages WHERE conversation_id = ? AND client_key = ? AND client_key <> ''"
	out := map[convKey]*chat.Message{}
	for _, k := range keys {
		m, err := scanMessage(tx.QueryRowContext(ctx, query, k.convID, k.clientKey))
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[k] = m
	}
	return out, nil
}

func (b sqliteBatch) write(ctx context.Context, tx *sql.Tx, msgs []*chat.Message, bumps []seqBump, now int64) error {
	if err := b.insertMessages(ctx, tx, msgs); err != nil {
		return err
	}
	return b.bumpConversations(ctx, tx, bumps, now)
}

func (b sqliteBatch) insertMessages(ctx context.Context, tx *sql.Tx, msgs []*chat.Message) error {
	const query = "INSERT INTO messages (" + msgCols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for _, m := range msgs {
		e := encodeMessage(m)
		if _, err := tx.ExecContext(ctx, query, m.ID, m.AppID, m.ConversationID, m.Seq, string(m.Sender.Type), m.Sender.ID,
			m.Text, int(m.ContentType), e.meta, e.atts, e.loc, m.ClientKey, micros(m.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

func (b sqliteBatch) bumpConversations(ctx context.Context, tx *sql.Tx, bumps []seqBump, now int64) error {
	const query = "UPDATE conversations SET last_seq = ?, updated_at = ? WHERE id = ?"
	for _, u := range bumps {
		if _, err := tx.ExecContext(ctx, query, u.lastSeq, now, u.convID); err != nil {
			return err
		}
	}
	return nil
}
