package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

const turnCols = `id, app_id, conversation_id, bot_id, kind, message_seq, event, state, attempts,
	lease_owner, lease_token, lease_expires_at, note, created_at, finished_at`

// maxClaim bounds one claim, so a node cannot hoard the queue (and a claim
// transaction stays short).
const maxClaim = store.MaxPageSize

func scanTurn(sc interface{ Scan(...any) error }) (*chat.BotTurn, error) {
	var t chat.BotTurn
	var expires, created, finished int64
	if err := sc.Scan(&t.ID, &t.AppID, &t.ConversationID, &t.BotID, &t.Kind, &t.MessageSeq, &t.Event, &t.State,
		&t.Attempts, &t.LeaseOwner, &t.LeaseToken, &expires, &t.Note, &created, &finished); err != nil {
		return nil, err
	}
	if expires != 0 {
		t.LeaseExpiresAt = fromMicros(expires)
	}
	if finished != 0 {
		t.FinishedAt = fromMicros(finished)
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

func queryTurns(ctx context.Context, q queryer, what, query string, args ...any) ([]chat.BotTurn, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []chat.BotTurn{}
	for rows.Next() {
		t, err := scanTurn(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, *t)
	}
	return out, wrapRowsErr(rows, what)
}

func (s *Store) EnqueueBotTurn(ctx context.Context, t *chat.BotTurn) (bool, error) {
	if err := t.Validate(); err != nil {
		return false, err
	}
	if t.ID == "" {
		t.ID = chat.NewID()
	} else if err := chat.ValidateID("id", t.ID); err != nil {
		return false, err
	}
	created := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Reading last_seq both checks the conversation is the app's and
		// places an unattached event after the messages already stored. No
		// row lock: AppendMessage's committer holds those, and a message
		// racing in just now may fairly run before or after the event.
		var lastSeq int64
		err := tx.QueryRowContext(ctx, s.q("SELECT last_seq FROM conversations WHERE app_id = ? AND id = ?"),
			t.AppID, t.ConversationID).Scan(&lastSeq)
		if err != nil {
			return notFound(err, "conversation")
		}
		if t.MessageSeq > lastSeq {
			return chat.FieldError("messageSeq", "no message with this seq in the conversation")
		}
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM bots WHERE app_id = ? AND id = ?"), t.AppID, t.BotID)
		if err != nil {
			return fmt.Errorf("enqueue bot turn: check bot: %w", err)
		}
		if !ok {
			return chat.FieldError("botId", "no bot with this id in the app")
		}
		// Doubling leaves room for the events: message k's turn sits at 2k,
		// an event enqueued when k messages were stored at 2k+1, after k's
		// turn even if that is enqueued later.
		pos := 2 * t.MessageSeq
		if pos == 0 {
			pos = 2*lastSeq + 1
		}
		now := s.now()
		// ON CONFLICT DO NOTHING rather than catching the unique violation:
		// on PostgreSQL a failed statement aborts the transaction, and the
		// duplicate's row must still be read in it.
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO bot_turns (id, app_id, conversation_id, bot_id, kind,
			message_seq, event, pos, state, attempts, lease_owner, lease_token, lease_expires_at, note, created_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', '', 0, '', ?, 0) ON CONFLICT DO NOTHING`),
			t.ID, t.AppID, t.ConversationID, t.BotID, string(t.Kind), t.MessageSeq, t.Event, pos,
			string(chat.BotTurnPending), micros(now))
		if err != nil {
			return fmt.Errorf("enqueue bot turn: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("enqueue bot turn: %w", err)
		} else if n == 1 {
			created = true
			t.State, t.Attempts, t.CreatedAt = chat.BotTurnPending, 0, now
			t.LeaseOwner, t.LeaseToken, t.LeaseExpiresAt, t.FinishedAt, t.Note = "", "", time.Time{}, time.Time{}, ""
			return nil
		}
		if t.MessageSeq > 0 {
			prev, err := scanTurn(tx.QueryRowContext(ctx, s.q("SELECT "+turnCols+` FROM bot_turns
				WHERE conversation_id = ? AND message_seq = ?`), t.ConversationID, t.MessageSeq))
			if err == nil {
				*t = *prev
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("enqueue bot turn: %w", err)
			}
		}
		return chat.Errorf(chat.CodeConflict, "bot turn id already exists").WithDetail("field", "id")
	})
	return created, err
}

// ClaimBotTurns picks candidates and leases them in one write transaction.
//
// A candidate is an open turn (pending, or running under an expired lease)
// with no other open turn of its conversation before it and no live lease
// in its conversation. That one predicate gives both rules: message order
// (only a conversation's head can run) and one turn in flight (a live lease
// anywhere in the conversation blocks it). Candidates go oldest first across
// conversations, so a busy conversation cannot starve the others.
//
// Concurrent claimers: on SQLite the write transaction holds the single
// writer, so claims are simply serial. On PostgreSQL, FOR UPDATE SKIP LOCKED
// makes claimers pass over each other's rows instead of queueing on them;
// a row that another claimer leased and committed meanwhile is re-checked
// against the WHERE clause on its new version (running, live lease) and
// dropped. The "no earlier open turn" part reads other rows, which the row
// lock does not cover; it cannot let a second turn of a conversation run
// because the later turn only becomes the head once the earlier one is
// finished, a state no claimer can undo.
func (s *Store) ClaimBotTurns(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]chat.BotTurn, error) {
	if err := chat.ValidateID("nodeId", nodeID); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, chat.FieldError("lease", "lease must be positive")
	}
	if limit <= 0 {
		return nil, chat.FieldError("limit", "limit must be positive")
	}
	limit = min(limit, maxClaim)
	var out []chat.BotTurn
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		lock := ""
		if s.flavor == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		cands, err := queryTurns(ctx, tx, "claim bot turns", s.q("SELECT "+turnCols+` FROM bot_turns t
			WHERE t.state IN ('pending', 'running') -- lets the partial queue index serve the scan
			  AND (t.state = 'pending' OR (t.state = 'running' AND t.lease_expires_at <= ?))
			AND NOT EXISTS (SELECT 1 FROM bot_turns o
				WHERE o.conversation_id = t.conversation_id AND o.state IN ('pending', 'running') AND o.n <> t.n
				AND (o.pos < t.pos OR (o.pos = t.pos AND o.n < t.n) OR (o.state = 'running' AND o.lease_expires_at > ?)))
			ORDER BY t.n LIMIT ?`+lock), micros(now), micros(now), limit)
		if err != nil {
			return err
		}
		expires := now.Add(lease).Truncate(time.Microsecond)
		out = make([]chat.BotTurn, 0, len(cands))
		for _, t := range cands {
			t.State, t.Attempts = chat.BotTurnRunning, t.Attempts+1
			t.LeaseOwner, t.LeaseToken, t.LeaseExpiresAt = nodeID, chat.NewID(), expires
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE bot_turns SET state = ?, attempts = ?, lease_owner = ?,
				lease_token = ?, lease_expires_at = ? WHERE id = ?`),
				string(t.State), t.Attempts, t.LeaseOwner, t.LeaseToken, micros(expires), t.ID); err != nil {
				return fmt.Errorf("claim bot turns: %w", err)
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// leaseLost tells a holder apart from a stranger: an unknown id is
// NotFound, a known turn whose token (or state) moved on is a lost lease.
func (s *Store) leaseLost(ctx context.Context, q queryer, id string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM bot_turns WHERE id = ?"), id)
	if err != nil {
		return fmt.Errorf("bot turn: %w", err)
	}
	if !ok {
		return chat.NotFound("bot turn")
	}
	return chat.Errorf(chat.CodeConflict, "lease lost")
}

// holderUpdate runs an UPDATE that matches only the running turn held under
// token, and reports a lost lease when it matched nothing. An expired lease
// that nobody has taken over still counts: the token is only replaced by a
// new claim, and until then its holder is the only one working on the turn.
func (s *Store) holderUpdate(ctx context.Context, what, set, id, token string, args ...any) error {
	if token == "" {
		return chat.Errorf(chat.CodeConflict, "lease lost")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		args = append(args, id, token)
		res, err := tx.ExecContext(ctx, s.q("UPDATE bot_turns SET "+set+" WHERE id = ? AND lease_token = ? AND state = 'running'"), args...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n == 0 {
			return s.leaseLost(ctx, tx, id)
		}
		return nil
	})
}

func (s *Store) ExtendBotTurnLease(ctx context.Context, id, token string, lease time.Duration) error {
	if lease <= 0 {
		return chat.FieldError("lease", "lease must be positive")
	}
	return s.holderUpdate(ctx, "extend bot turn lease", "lease_expires_at = ?", id, token, micros(s.now().Add(lease)))
}

func (s *Store) FinishBotTurn(ctx context.Context, id, token string, state chat.BotTurnState, note string) error {
	if !state.Final() {
		return chat.FieldError("state", "a turn finishes as done, handed_off or failed")
	}
	err := s.holderUpdate(ctx, "finish bot turn", "state = ?, note = ?, finished_at = ?", id, token,
		string(state), chat.TrimNote(note), micros(s.now()))
	if !chat.IsCode(err, chat.CodeConflict) || token == "" {
		return err
	}
	return s.refinished(ctx, id, token, state, err)
}

// refinished turns a finish refused with conflict into success when the
// turn already ended the same way under the same token: a retried finish
// whose first attempt committed. The token is kept after a finish, so a
// retried finish can be told apart from a late one; Cancel clears it, so a
// cancelled turn's holder is refused.
func (s *Store) refinished(ctx context.Context, id, token string, state chat.BotTurnState, conflict error) error {
	ok, err := exists(ctx, s.db, s.q("SELECT 1 FROM bot_turns WHERE id = ? AND lease_token = ? AND state = ?"), id, token, string(state))
	if err != nil {
		return fmt.Errorf("finish bot turn: %w", err)
	}
	if ok {
		return nil
	}
	return conflict
}

func (s *Store) ReleaseBotTurn(ctx context.Context, id, token string) error {
	return s.holderUpdate(ctx, "release bot turn",
		"state = 'pending', attempts = attempts - 1, lease_owner = '', lease_token = '', lease_expires_at = 0", id, token)
}

func (s *Store) PendingBotTurns(ctx context.Context, appID, conversationID string) ([]chat.BotTurn, error) {
	ok, err := exists(ctx, s.db, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), appID, conversationID)
	if err != nil {
		return nil, fmt.Errorf("pending bot turns: %w", err)
	}
	if !ok {
		return nil, chat.NotFound("conversation")
	}
	return queryTurns(ctx, s.db, "pending bot turns", s.q("SELECT "+turnCols+` FROM bot_turns
		WHERE conversation_id = ? AND app_id = ? AND state IN ('pending', 'running') ORDER BY pos, n`), conversationID, appID)
}

func (s *Store) CancelBotTurns(ctx context.Context, appID, conversationID, note string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), appID, conversationID)
		if err != nil {
			return fmt.Errorf("cancel bot turns: %w", err)
		}
		if !ok {
			return chat.NotFound("conversation")
		}
		// On PostgreSQL the UPDATE waits for a claimer holding a row and
		// then re-checks it, so a turn claimed an instant ago is cancelled
		// too and its new holder finds the lease lost.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE bot_turns SET state = ?, note = ?, finished_at = ?, lease_token = ''
			WHERE conversation_id = ? AND app_id = ? AND state IN ('pending', 'running')`),
			string(chat.BotTurnHandedOff), chat.TrimNote(note), micros(s.now()), conversationID, appID)
		if err != nil {
			return fmt.Errorf("cancel bot turns: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("cancel bot turns: %w", err)
		}
		return nil
	})
	return int(n), err
}
