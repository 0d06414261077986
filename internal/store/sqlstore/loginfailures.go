package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (s *Store) RecordLoginFailure(ctx context.Context, subjects []string, at, forgetBefore time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, sub := range subjects {
			if _, err := tx.ExecContext(ctx, s.q("INSERT INTO login_failures (subject, at) VALUES (?, ?)"), sub, micros(at)); err != nil {
				return fmt.Errorf("record login failure: %w", err)
			}
		}
		// Pruning here keeps the table to one window of failures without a
		// sweeper of its own.
		if _, err := tx.ExecContext(ctx, s.q("DELETE FROM login_failures WHERE at < ?"), micros(forgetBefore)); err != nil {
			return fmt.Errorf("prune login failures: %w", err)
		}
		return nil
	})
}

func (s *Store) NthLoginFailure(ctx context.Context, subject string, n int, since time.Time) (time.Time, error) {
	if n < 1 {
		return time.Time{}, fmt.Errorf("nth login failure: n must be at least 1, got %d", n)
	}
	var at int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT at FROM login_failures WHERE subject = ? AND at >= ?
		ORDER BY at DESC LIMIT 1 OFFSET ?`), subject, micros(since), n-1).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("nth login failure: %w", err)
	}
	return fromMicros(at), nil
}

func (s *Store) ClearLoginFailures(ctx context.Context, subject string) error {
	if _, err := s.wdb.ExecContext(ctx, s.q("DELETE FROM login_failures WHERE subject = ?"), subject); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
