package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// MaxBotState bounds one bot's state in one conversation. Lex's session
// attributes are small; a connector keeping more is keeping a transcript,
// which the messages already are.
const MaxBotState = 64 << 10

func (s *Store) GetBotState(ctx context.Context, appID, conversationID, botID string) (json.RawMessage, bool, error) {
	var state string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT state FROM bot_states
		WHERE conversation_id = ? AND bot_id = ? AND app_id = ?`), conversationID, botID, appID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("bot state: %w", err)
	}
	if state == "" {
		return nil, true, nil
	}
	return json.RawMessage(state), true, nil
}

// FinishBotTurnWithState: see store.Store. The finish is FinishBotTurn's
// (same holder rule, same answer to a repeated finish); the state row is
// written only by the finish that takes effect.
func (s *Store) FinishBotTurnWithState(ctx context.Context, id, token string, state chat.BotTurnState, note string, botState json.RawMessage, intent string) error {
	if !state.Final() {
		return chat.FieldError("state", "a turn finishes as done, handed_off or failed")
	}
	if botState != nil {
		if len(botState) > MaxBotState {
			return chat.FieldError("state", "a bot's state must be at most %d bytes", MaxBotState)
		}
		if !json.Valid(botState) {
			return chat.FieldError("state", "a bot's state must be JSON")
		}
	}
	if token == "" {
		return chat.Errorf(chat.CodeConflict, "lease lost")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE bot_turns SET state = ?, note = ?, finished_at = ?
			WHERE id = ? AND lease_token = ? AND state = 'running'`),
			string(state), chat.TrimNote(note), micros(s.now()), id, token)
		if err != nil {
			return fmt.Errorf("finish bot turn: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("finish bot turn: %w", err)
		} else if n == 0 {
			return s.leaseLost(ctx, tx, id)
		}
		var appID, convID, botID string
		if err := tx.QueryRowContext(ctx, s.q("SELECT app_id, conversation_id, bot_id FROM bot_turns WHERE id = ?"), id).
			Scan(&appID, &convID, &botID); err != nil {
			return fmt.Errorf("finish bot turn: %w", err)
		}
		// The intent is the last turn's even when empty: the panel shows
		// what the bot understood last, not the last thing it understood.
		set := "state = excluded.state, intent = excluded.intent, updated_at = excluded.updated_at"
		if botState == nil {
			set = "intent = excluded.intent, updated_at = excluded.updated_at" // the stored state stays
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO bot_states (app_id, conversation_id, bot_id, state, intent, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (conversation_id, bot_id) DO UPDATE SET `+set),
			appID, convID, botID, string(botState), trimLabel(intent), micros(s.now())); err != nil {
			return fmt.Errorf("store bot state: %w", err)
		}
		return nil
	})
	if !chat.IsCode(err, chat.CodeConflict) {
		return err
	}
	return s.refinished(ctx, id, token, state, err)
}

func (s *Store) BotIntent(ctx context.Context, appID, conversationID, botID string) (string, bool, error) {
	var intent string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT intent FROM bot_states
		WHERE conversation_id = ? AND bot_id = ? AND app_id = ?`), conversationID, botID, appID).Scan(&intent)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("bot intent: %w", err)
	}
	return intent, true, nil
}

func (s *Store) DetachBots(ctx context.Context, appID, conversationID, keepBotID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		ok, err := exists(ctx, tx, s.q("SELECT 1 FROM conversations WHERE app_id = ? AND id = ?"), appID, conversationID)
		if err != nil {
			return fmt.Errorf("detach bots: %w", err)
		}
		if !ok {
			return chat.NotFound("conversation")
		}
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM bot_states WHERE conversation_id = ? AND app_id = ? AND bot_id <> ?"),
			conversationID, appID, keepBotID); err != nil {
			return fmt.Errorf("detach bots: %w", err)
		}
		return nil
	})
}
