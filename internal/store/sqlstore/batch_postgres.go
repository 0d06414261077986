package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// pgBatch applies a batch in a fixed number of round trips whatever its
// size: every step sends whole columns as arrays and lets unnest turn them
// back into rows. The statement texts never change, so pgx prepares each once
// per connection.
type pgBatch struct{ s *Store }

func (b pgBatch) lockConversations(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*convState, error) {
	// FOR UPDATE in id order: appends to one conversation from any node queue
	// here, which makes seq allocation and the client-key check race-free,
	// and the fixed order means two batches never deadlock.
	return queryConvStates(ctx, tx,
		"SELECT id, app_id, last_seq FROM conversations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE", ids)
}

func (b pgBatch) findByClientKey(ctx context.Context, tx *sql.Tx, keys []convKey) (map[convKey]*chat.Message, error) {
	convIDs := make([]string, len(keys))
	clientKeys := make([]string, len(keys))
	for i, k := range keys {
		convIDs[i], clientKeys[i] = k.convID, k.clientKey
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+msgCols+` FROM messages
		WHERE (conversation_id, client_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		AND client_key <> ''`, convIDs, clientKeys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[convKey]*chat.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out[convKey{m.ConversationID, m.ClientKey}] = m
	}
	return out, rows.Err()
}

// write inserts the messages and bumps the conversations in one statement
// (a data-modifying CTE), saving a round trip per batch.
func (b pgBatch) write(ctx context.Context, tx *sql.Tx, msgs []*chat.Message, bumps []seqBump, now int64) error {
	n := len(msgs)
	var (
		ids, apps, convs, senderTypes, senderIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		texts, metas, atts, locs, keys           = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, contentTypes, created              = make([]int64, n), make([]int64, n), make([]int64, n)
	)
	for i, m := range msgs {
		e := encodeMessage(m)
		ids[i], apps[i], convs[i], seqs[i] = m.ID, m.AppID, m.ConversationID, m.Seq
		senderTypes[i], senderIDs[i], texts[i], contentTypes[i] = string(m.Sender.Type), m.Sender.ID, m.Text, int64(m.ContentType)
		metas[i], atts[i], locs[i], keys[i], created[i] = e.meta, e.atts, e.loc, m.ClientKey, micros(m.CreatedAt)
	}
	bumpIDs := make([]string, len(bumps))
	bumpSeqs := make([]int64, len(bumps))
	for i, u := range bumps {
		bumpIDs[i], bumpSeqs[i] = u.convID, u.lastSeq
	}
	_, err := tx.ExecContext(ctx, `WITH ins AS (
			INSERT INTO messages (`+msgCols+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
				$8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])
		)
		UPDATE conversations c SET last_seq = v.seq, updated_at = $16
		FROM unnest($14::text[], $15::bigint[]) AS v(id, seq) WHERE c.id = v.id`,
		ids, apps, convs, seqs, senderTypes, senderIDs, texts, contentTypes, metas, atts, locs, keys, created,
		bumpIDs, bumpSeqs, now)
	return err
}
