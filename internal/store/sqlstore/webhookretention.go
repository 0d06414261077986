package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// PurgeWebhooks: see store.WebhookStore. Each step is its own short
// transaction deleting at most limit rows, chosen by a subquery on an
// index, so a sweep never holds a lock long and two nodes sweeping at once
// only find each other's rows gone.
func (s *Store) PurgeWebhooks(ctx context.Context, before time.Time, limit int) (store.WebhookPurge, error) {
	var p store.WebhookPurge
	if limit <= 0 {
		return p, nil
	}
	cut := micros(before)
	var err error
	// Finished deliveries first: an event goes only once nothing refers to
	// it, so a delivery still pending or running keeps its event.
	if p.Deliveries, err = s.purge(ctx, `DELETE FROM webhook_deliveries WHERE n IN (SELECT n FROM webhook_deliveries
		WHERE state IN ('delivered', 'failed') AND finished_at < ? ORDER BY finished_at LIMIT ?)`, cut, limit); err != nil {
		return p, fmt.Errorf("purge webhook deliveries: %w", err)
	}
	if p.Events, err = s.purge(ctx, `DELETE FROM webhook_events WHERE id IN (SELECT e.id FROM webhook_events e
		WHERE e.created_at < ? AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
		ORDER BY e.created_at LIMIT ?)`, cut, limit); err != nil {
		return p, fmt.Errorf("purge webhook events: %w", err)
	}
	if p.Attempts, err = s.purgeAttempts(ctx, limit); err != nil {
		return p, fmt.Errorf("purge webhook attempts: %w", err)
	}
	return p, nil
}

func (s *Store) purge(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// purgeAttempts cuts every endpoint's log back to its last webhook.LogSize
// attempts. Finishing a delivery prunes its endpoint's log only now and
// then (pruneAttempts); this catches the endpoints that went quiet while
// over size.
func (s *Store) purgeAttempts(ctx context.Context, limit int) (int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT endpoint_id FROM webhook_attempts GROUP BY endpoint_id
		HAVING COUNT(*) > ? ORDER BY endpoint_id LIMIT ?`), webhook.LogSize, limit)
	if err != nil {
		return 0, err
	}
	var endpoints []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		endpoints = append(endpoints, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var total int64
	for _, ep := range endpoints {
		if int(total) >= limit {
			break
		}
		n, err := s.purge(ctx, `DELETE FROM webhook_attempts WHERE n IN (SELECT n FROM webhook_attempts
			WHERE endpoint_id = ? AND n <= (SELECT n FROM webhook_attempts WHERE endpoint_id = ? ORDER BY n DESC LIMIT 1 OFFSET ?)
			ORDER BY n LIMIT ?)`, ep, ep, webhook.LogSize, limit-int(total))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
