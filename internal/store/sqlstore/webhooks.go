package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

const endpointCols = "id, app_id, url, events, enabled, disabled_reason, failures, failing_since, sealed, created_at, updated_at"

func scanEndpoint(sc interface{ Scan(...any) error }) (*webhook.Endpoint, error) {
	var e webhook.Endpoint
	var events string
	var since, created, updated int64
	if err := sc.Scan(&e.ID, &e.AppID, &e.URL, &events, &e.Enabled, &e.DisabledReason, &e.Failures, &since, &e.Sealed,
		&created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	if since != 0 {
		t := fromMicros(since)
		e.FailingSince = &t
	}
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &e, nil
}

// checkEndpoint validates what the store keeps: the service has already
// sealed the credentials.
func checkEndpoint(e *webhook.Endpoint) error {
	if err := webhook.ValidateURL(e.URL); err != nil {
		return err
	}
	events, err := webhook.NormalizeEvents(e.Events)
	if err != nil {
		return err
	}
	e.Events = events
	if len(e.Sealed) == 0 {
		return chat.FieldError("secret", "an endpoint needs sealed credentials")
	}
	if e.Enabled {
		e.DisabledReason = ""
	}
	return nil
}

func encodeEvents(ts []webhook.EventType) string {
	b, _ := json.Marshal(ts) // strings always marshal
	return string(b)
}

func (s *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	if e.ID == "" {
		e.ID = chat.NewID()
	}
	if err := checkEndpoint(e); err != nil {
		return err
	}
	e.CreatedAt = s.now()
	e.UpdatedAt = e.CreatedAt
	e.Failures, e.FailingSince = 0, nil
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The app row lock serialises creations in the app, so two at once
		// cannot both pass the limit.
		if err := s.requireApp(ctx, tx, e.AppID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("UPDATE apps SET id = id WHERE id = ?"), e.AppID); err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM webhook_endpoints WHERE app_id = ?"), e.AppID).Scan(&n); err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		if n >= webhook.MaxEndpoints {
			return chat.Errorf(chat.CodeConflict, "an app can have at most %d webhook endpoints", webhook.MaxEndpoints)
		}
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO webhook_endpoints ("+endpointCols+") VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)"),
			e.ID, e.AppID, e.URL, encodeEvents(e.Events), e.Enabled, e.DisabledReason, e.Sealed, micros(e.CreatedAt), micros(e.UpdatedAt))
		if err != nil {
			if s.isUnique(err) {
				return chat.Errorf(chat.CodeConflict, "webhook id already exists").WithDetail("field", "id")
			}
			return fmt.Errorf("create webhook: %w", err)
		}
		return nil
	})
}

func (s *Store) GetWebhook(ctx context.Context, appID, id string) (*webhook.Endpoint, error) {
	e, err := scanEndpoint(s.db.QueryRowContext(ctx, s.q("SELECT "+endpointCols+" FROM webhook_endpoints WHERE app_id = ? AND id = ?"), appID, id))
	if err != nil {
		return nil, notFound(err, "webhook")
	}
	return e, nil
}

func (s *Store) ListWebhooks(ctx context.Context, appID string) ([]webhook.Endpoint, error) {
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+endpointCols+" FROM webhook_endpoints WHERE app_id = ? ORDER BY id"), appID)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []webhook.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, *e)
	}
	return out, wrapRowsErr(rows, "list webhooks")
}

func (s *Store) UpdateWebhook(ctx context.Context, appID, id string, fn func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	var out *webhook.Endpoint
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanEndpoint(tx.QueryRowContext(ctx, s.q("SELECT "+endpointCols+" FROM webhook_endpoints WHERE app_id = ? AND id = ?"+s.forUpdate()), appID, id))
		if err != nil {
			return notFound(err, "webhook")
		}
		next := *cur
		next.Events = append([]webhook.EventType(nil), cur.Events...)
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.AppID, next.CreatedAt = cur.ID, cur.AppID, cur.CreatedAt
		if err := checkEndpoint(&next); err != nil {
			return err
		}
		// Turning an endpoint back on starts its failure count afresh.
		if next.Enabled && !cur.Enabled {
			next.Failures, next.FailingSince = 0, nil
		}
		next.UpdatedAt = s.now()
		since := int64(0)
		if next.FailingSince != nil {
			since = micros(*next.FailingSince)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, disabled_reason = ?,
			failures = ?, failing_since = ?, sealed = ?, updated_at = ? WHERE app_id = ? AND id = ?`),
			next.URL, encodeEvents(next.Events), next.Enabled, next.DisabledReason, next.Failures, since, next.Sealed,
			micros(next.UpdatedAt), appID, id); err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		out = &next
		return nil
	})
	return out, err
}

// DeleteWebhook removes the endpoint with its deliveries and log (the
// foreign keys cascade); the events stay for the app's other endpoints.
func (s *Store) DeleteWebhook(ctx context.Context, appID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			"DELETE FROM webhook_attempts WHERE app_id = ? AND endpoint_id = ?",
			"DELETE FROM webhook_deliveries WHERE app_id = ? AND endpoint_id = ?",
		} {
			if _, err := tx.ExecContext(ctx, s.q(q), appID, id); err != nil {
				return fmt.Errorf("delete webhook: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM webhook_endpoints WHERE app_id = ? AND id = ?"), appID, id)
		if err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		} else if n == 0 {
			return chat.NotFound("webhook")
		}
		return nil
	})
}

const deliveryCols = `d.id, d.app_id, d.endpoint_id, d.event_id, e.type, d.conversation_id, d.state, d.attempts,
	d.next_attempt_at, d.lease_token, d.created_at, d.finished_at`

func scanDelivery(sc interface{ Scan(...any) error }, extra ...any) (*webhook.Delivery, error) {
	var d webhook.Delivery
	var next, created, finished int64
	dest := append([]any{&d.ID, &d.AppID, &d.EndpointID, &d.EventID, &d.EventType, &d.ConversationID, &d.State, &d.Attempts,
		&next, &d.LeaseToken, &created, &finished}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt = fromMicros(next), fromMicros(created)
	if finished != 0 {
		t := fromMicros(finished)
		d.FinishedAt = &t
	}
	return &d, nil
}

// ClaimWebhookDeliveries leases the deliveries that are due, one per
// endpoint and conversation: the oldest open delivery of each pair, when
// its next attempt is due (pending) or its lease has expired (running on a
// node that died). A later delivery of the pair waits until that one is
// delivered or given up, which is what keeps a conversation's events in
// order. Disabled endpoints' deliveries wait for the endpoint to come back.
//
// Concurrent claimers work as in ClaimBotTurns: SQLite's single writer
// serialises them; on PostgreSQL SKIP LOCKED lets them pass each other, and
// a row leased meanwhile fails the re-check on its new version.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]webhook.Delivery, error) {
	if err := checkClaim(nodeID, lease, limit); err != nil {
		return nil, err
	}
	claim, err := s.claimStmt(ctx)
	if err != nil {
		return nil, err
	}
	var out []webhook.Delivery
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		out, err = s.claimIn(ctx, tx, nodeID, lease, func(now time.Time) (*sql.Rows, error) {
			return tx.StmtContext(ctx, claim).QueryContext(ctx, micros(now), micros(now), min(limit, maxClaim))
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishAndClaimWebhookDeliveries stores outcomes as FinishWebhookDeliveries
// does and then, in the same transaction, claims the next due delivery of
// each endpoint and conversation it finished one of. A finished delivery
// is what lets its conversation's next one go, so a busy worker takes the
// deliveries its outcomes unblocked for the price of one commit instead of
// two, one after the other. Only those conversations are looked at, by
// their open index, rather than every head of the queue as a claim does:
// that costs what the batch is long, not what the queue is long.
func (s *Store) FinishAndClaimWebhookDeliveries(ctx context.Context, fs []webhook.Finish, nodeID string, lease time.Duration,
	limit int) ([]webhook.FinishResult, []webhook.Delivery, error) {
	if err := checkClaim(nodeID, lease, limit); err != nil {
		return nil, nil, err
	}
	out := make([]webhook.FinishResult, len(fs))
	if len(fs) == 0 {
		return out, nil, nil
	}
	var claimed []webhook.Delivery
	var written int
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		if written, err = s.finishIn(ctx, tx, fs, out); err != nil {
			return err
		}
		claimed, err = s.claimIn(ctx, tx, nodeID, lease, func(now time.Time) (*sql.Rows, error) {
			ids := finishIDs(fs)
			return tx.QueryContext(ctx, s.q(`WITH done AS (SELECT DISTINCT endpoint_id, conversation_id FROM webhook_deliveries
					WHERE id IN (`+inList(len(ids))+`)),
				heads AS (SELECT (SELECT MIN(o.n) FROM webhook_deliveries o WHERE o.endpoint_id = done.endpoint_id
					AND o.conversation_id = done.conversation_id AND o.state IN ('pending', 'running')) AS n FROM done)
				`+claimHeads+s.skipLocked()), append(ids, micros(now), micros(now), min(limit, maxClaim))...)
		})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s.pruneAttempts(ctx, fs, written)
	return out, claimed, nil
}

func checkClaim(nodeID string, lease time.Duration, limit int) error {
	if err := chat.ValidateID("nodeId", nodeID); err != nil {
		return err
	}
	if lease <= 0 {
		return chat.FieldError("lease", "lease must be positive")
	}
	if limit <= 0 {
		return chat.FieldError("limit", "limit must be positive")
	}
	return nil
}

// claimHeads selects, of the deliveries numbered in a CTE heads, those
// due (pending and due, or running with an expired lease) on enabled
// endpoints, oldest first; its arguments are now twice and a limit.
const claimHeads = `SELECT ` + deliveryCols + `, e.body, e.created_at, p.url, p.sealed
		FROM heads h
		JOIN webhook_deliveries d ON d.n = h.n
		JOIN webhook_events e ON e.id = d.event_id
		JOIN webhook_endpoints p ON p.id = d.endpoint_id
		WHERE ((d.state = 'pending' AND d.next_attempt_at <= ?) OR (d.state = 'running' AND d.lease_expires_at <= ?))
		  AND p.enabled
		ORDER BY d.n LIMIT ?`

// skipLocked lets concurrent claimers on PostgreSQL pass each other's
// rows; SQLite's single writer serialises them anyway.
func (s *Store) skipLocked() string {
	if s.flavor == Postgres {
		return " FOR UPDATE OF d SKIP LOCKED"
	}
	return ""
}

// claimIn leases, within tx, the deliveries query finds (claimHeads's
// columns) as of now.
func (s *Store) claimIn(ctx context.Context, tx *sql.Tx, nodeID string, lease time.Duration,
	query func(now time.Time) (*sql.Rows, error)) ([]webhook.Delivery, error) {
	now := s.now()
	rows, err := query(now)
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	defer rows.Close()
	var cands []webhook.Delivery
	for rows.Next() {
		var body, url string
		var sealed []byte
		var evCreated int64
		d, err := scanDelivery(rows, &body, &evCreated, &url, &sealed)
		if err != nil {
			return nil, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		d.Event = webhook.Event{ID: d.EventID, AppID: d.AppID, Type: d.EventType, ConversationID: d.ConversationID,
			Body: json.RawMessage(body), CreatedAt: fromMicros(evCreated)}
		d.Endpoint = webhook.Endpoint{ID: d.EndpointID, AppID: d.AppID, URL: url, Sealed: sealed, Enabled: true}
		cands = append(cands, *d)
	}
	if err := wrapRowsErr(rows, "claim webhook deliveries"); err != nil {
		return nil, err
	}
	rows.Close()
	if len(cands) == 0 {
		return nil, nil
	}
	// One token for the whole claim: it is always paired with the
	// delivery's id, and one UPDATE leases them all.
	token := chat.NewID()
	args := []any{nodeID, token, micros(now.Add(lease))}
	for i := range cands {
		d := &cands[i]
		d.State, d.Attempts, d.LeaseToken = webhook.DeliveryRunning, d.Attempts+1, token
		args = append(args, d.ID)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET state = 'running', attempts = attempts + 1,
		lease_owner = ?, lease_token = ?, lease_expires_at = ? WHERE id IN (`+inList(len(cands))+")"), args...); err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return cands, nil
}

// claimStmt is the claim's query, prepared once: it runs several times a
// second with the same text, and on SQLite preparing it afresh each time
// cost about as much CPU as running it (docs/benchmarks.md). Prepared
// outside any transaction, since SQLite's writer has a single connection
// which the transaction would hold.
func (s *Store) claimStmt(ctx context.Context) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.claim != nil {
		return s.claim, nil
	}
	// A delivery may go when it is its conversation's head for its
	// endpoint (the open one with the lowest n) and is due. The heads are
	// found first, from the open index in one ordered pass, and only they
	// are joined and sorted: testing every open delivery for an older open
	// one instead cost a probe per queued delivery on every claim, which
	// on PostgreSQL made a claim cost as much as the queue was long.
	st, err := s.wdb.PrepareContext(ctx, s.q(`WITH heads AS (SELECT MIN(n) AS n FROM webhook_deliveries
			WHERE state IN ('pending', 'running') GROUP BY endpoint_id, conversation_id)
		`+claimHeads+s.skipLocked()))
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: prepare: %w", err)
	}
	s.claim = st
	return st, nil
}

// FinishWebhookDelivery records an attempt in the delivery log and moves
// the delivery on: delivered, back to pending until o.RetryAt, or failed.
// It also keeps the endpoint's run of failures, and disables the endpoint
// when the run reaches o's thresholds; disabled reports that this call did.
// Only the lease holder may finish: a stale token is CodeConflict and
// changes nothing.
func (s *Store) FinishWebhookDelivery(ctx context.Context, id, token string, o webhook.Outcome) (disabled bool, err error) {
	rs, err := s.FinishWebhookDeliveries(ctx, []webhook.Finish{{DeliveryID: id, Token: token, Outcome: o}})
	if err != nil {
		return false, err
	}
	return rs[0].Disabled, rs[0].Err
}

func (s *Store) FinishWebhookDeliveries(ctx context.Context, fs []webhook.Finish) ([]webhook.FinishResult, error) {
	out := make([]webhook.FinishResult, len(fs))
	if len(fs) == 0 {
		return out, nil
	}
	var written int
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		written, err = s.finishIn(ctx, tx, fs, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.pruneAttempts(ctx, fs, written)
	return out, nil
}

// finishIn stores fs's outcomes within tx, each one's result in out, and
// reports how many attempts it logged.
func (s *Store) finishIn(ctx context.Context, tx *sql.Tx, fs []webhook.Finish, out []webhook.FinishResult) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	now := s.now()
	held, err := s.heldDeliveries(ctx, tx, fs)
	if err != nil {
		return 0, err
	}
	var attempts [][]any
	var delivered []any
	reset := map[string]bool{}
	for i, f := range fs {
		d := held[f.DeliveryID]
		if d == nil || f.Token == "" || d.LeaseToken != f.Token {
			lost := s.deliveryLeaseLost(ctx, tx, f.DeliveryID)
			if !chat.IsCode(lost, chat.CodeConflict) && !chat.IsCode(lost, chat.CodeNotFound) {
				return 0, lost
			}
			out[i].Err = lost
			continue
		}
		delete(held, f.DeliveryID) // a repeat in the batch is refused, not applied twice
		a := trimAttempt(f.Outcome.Attempt)
		a.At = now
		a.DeliveryID, a.EndpointID, a.EventID, a.EventType, a.Attempt = d.ID, d.EndpointID, d.EventID, d.EventType, d.Attempts
		attempts = append(attempts, []any{d.AppID, d.EndpointID, d.ID, d.EventID, string(d.EventType), a.Attempt, a.StatusCode,
			a.LatencyMillis, a.Error, a.Response, micros(now)})
		if a.OK() {
			delivered = append(delivered, d.ID)
			reset[d.EndpointID] = true
			continue
		}
		if out[i].Disabled, err = s.failDelivery(ctx, tx, d, f.Outcome, now); err != nil {
			return 0, err
		}
	}
	if err := s.insertRows(ctx, tx, `webhook_attempts (app_id, endpoint_id, delivery_id, event_id, event_type,
		attempt, status_code, latency_ms, error, response, at)`, attempts); err != nil {
		return 0, fmt.Errorf("log webhook attempts: %w", err)
	}
	if len(delivered) > 0 {
		args := append([]any{micros(now)}, delivered...)
		if _, err := tx.ExecContext(ctx, s.q("UPDATE webhook_deliveries SET state = 'delivered', finished_at = ? WHERE id IN ("+
			inList(len(delivered))+")"), args...); err != nil {
			return 0, fmt.Errorf("finish webhook deliveries: %w", err)
		}
	}
	for ep := range reset {
		// Conditional, so that the usual case (no failures) does not
		// write the endpoint row at all.
		if _, err := tx.ExecContext(ctx, s.q("UPDATE webhook_endpoints SET failures = 0, failing_since = 0 WHERE id = ? AND failures > 0"), ep); err != nil {
			return 0, fmt.Errorf("finish webhook deliveries: %w", err)
		}
	}
	return len(attempts), nil
}

// heldDeliveries reads (and on PostgreSQL locks, in id order) the running
// deliveries among fs.
func (s *Store) heldDeliveries(ctx context.Context, tx *sql.Tx, fs []webhook.Finish) (map[string]*webhook.Delivery, error) {
	ids := finishIDs(fs)
	rows, err := tx.QueryContext(ctx, s.q("SELECT "+deliveryCols+` FROM webhook_deliveries d
		JOIN webhook_events e ON e.id = d.event_id
		WHERE d.id IN (`+inList(len(ids))+`) AND d.state = 'running' ORDER BY d.id`+s.forUpdateOf("d")), ids...)
	if err != nil {
		return nil, fmt.Errorf("finish webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]*webhook.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("finish webhook deliveries: %w", err)
		}
		out[d.ID] = d
	}
	return out, wrapRowsErr(rows, "finish webhook deliveries")
}

func trimAttempt(a webhook.Attempt) webhook.Attempt {
	a.Error = chat.TrimNote(a.Error)
	if len(a.Error) > webhook.MaxAttemptError {
		a.Error = a.Error[:webhook.MaxAttemptError]
	}
	if len(a.Response) > webhook.MaxResponseExcerpt {
		a.Response = a.Response[:webhook.MaxResponseExcerpt]
	}
	return a
}

// failDelivery moves a failed delivery on (a retry, or a give-up) and
// counts the failure against its endpoint.
func (s *Store) failDelivery(ctx context.Context, tx *sql.Tx, d *webhook.Delivery, o webhook.Outcome, now time.Time) (bool, error) {
	var err error
	if !o.RetryAt.IsZero() {
		_, err = tx.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, lease_owner = '',
			lease_expires_at = 0 WHERE id = ?`), micros(o.RetryAt), d.ID)
	} else {
		_, err = tx.ExecContext(ctx, s.q("UPDATE webhook_deliveries SET state = 'failed', finished_at = ? WHERE id = ?"), micros(now), d.ID)
	}
	if err != nil {
		return false, fmt.Errorf("finish webhook delivery: %w", err)
	}
	return s.countFailure(ctx, tx, d.EndpointID, now, o)
}

// forUpdateOf is forUpdate for a join, locking only the named table's row.
func (s *Store) forUpdateOf(table string) string {
	if s.flavor == Postgres {
		return " FOR UPDATE OF " + table
	}
	return ""
}

func (s *Store) deliveryLeaseLost(ctx context.Context, q queryer, id string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM webhook_deliveries WHERE id = ?"), id)
	if err != nil {
		return fmt.Errorf("webhook delivery: %w", err)
	}
	if !ok {
		return chat.NotFound("webhook delivery")
	}
	return chat.Errorf(chat.CodeConflict, "lease lost")
}

// pruneAttempts now and then cuts the logs of the batch's endpoints back
// to the last webhook.LogSize attempts: pruning on every write would
// double the writes of the busiest path, and a log a little over its size
// for a while does no harm. It runs after the outcomes' commit, statement
// by statement: two nodes pruning one endpoint's log at once can deadlock
// on its rows, and that must cost a prune, not the outcomes. A prune
// that fails is left to a later one.
func (s *Store) pruneAttempts(ctx context.Context, fs []webhook.Finish, written int) {
	if written == 0 || rand.N(webhook.LogSize/4) >= written {
		return
	}
	_ = s.pruneAttemptsOf(ctx, fs)
}

func (s *Store) pruneAttemptsOf(ctx context.Context, fs []webhook.Finish) error {
	tx := s.wdb
	rows, err := tx.QueryContext(ctx, s.q("SELECT DISTINCT endpoint_id FROM webhook_deliveries WHERE id IN ("+inList(len(fs))+")"), finishIDs(fs)...)
	if err != nil {
		return fmt.Errorf("prune webhook attempts: %w", err)
	}
	var endpoints []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("prune webhook attempts: %w", err)
		}
		endpoints = append(endpoints, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("prune webhook attempts: %w", err)
	}
	for _, ep := range endpoints {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM webhook_attempts WHERE endpoint_id = ? AND n <= (SELECT n FROM webhook_attempts
			WHERE endpoint_id = ? ORDER BY n DESC LIMIT 1 OFFSET ?)`), ep, ep, webhook.LogSize); err != nil {
			return fmt.Errorf("prune webhook attempts: %w", err)
		}
	}
	return nil
}

func finishIDs(fs []webhook.Finish) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = f.DeliveryID
	}
	return out
}

// countFailure extends the endpoint's run of failures and disables it
// when the run is long enough in both count and time.
func (s *Store) countFailure(ctx context.Context, tx *sql.Tx, endpointID string, now time.Time, o webhook.Outcome) (bool, error) {
	var failures int
	var since int64
	var enabled bool
	err := tx.QueryRowContext(ctx, s.q(`UPDATE webhook_endpoints SET failures = failures + 1,
		failing_since = CASE WHEN failing_since = 0 THEN ? ELSE failing_since END
		WHERE id = ? RETURNING failures, failing_since, enabled`), micros(now), endpointID).Scan(&failures, &since, &enabled)
	if err != nil {
		return false, fmt.Errorf("count webhook failure: %w", err)
	}
	if !enabled || o.DisableMinFailures <= 0 || failures < o.DisableMinFailures || now.Sub(fromMicros(since)) < o.DisableAfter {
		return false, nil
	}
	reason := fmt.Sprintf("disabled after %d failed attempts in a row since %s", failures, fromMicros(since).Format(time.RFC3339))
	if _, err := tx.ExecContext(ctx, s.q("UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?"),
		false, reason, micros(now), endpointID); err != nil {
		return false, fmt.Errorf("disable webhook: %w", err)
	}
	return true, nil
}

// ReleaseWebhookDelivery gives a running delivery back without counting
// the attempt, for a node shutting down before it sent it.
func (s *Store) ReleaseWebhookDelivery(ctx context.Context, id, token string) error {
	if token == "" {
		return chat.Errorf(chat.CodeConflict, "lease lost")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE webhook_deliveries SET state = 'pending', attempts = attempts - 1, lease_owner = '',
			lease_token = '', lease_expires_at = 0 WHERE id = ? AND lease_token = ? AND state = 'running'`), id, token)
		if err != nil {
			return fmt.Errorf("release webhook delivery: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("release webhook delivery: %w", err)
		} else if n == 0 {
			return s.deliveryLeaseLost(ctx, tx, id)
		}
		return nil
	})
}

func (s *Store) requireWebhook(ctx context.Context, q queryer, appID, id string) error {
	ok, err := exists(ctx, q, s.q("SELECT 1 FROM webhook_endpoints WHERE app_id = ? AND id = ?"), appID, id)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if !ok {
		return chat.NotFound("webhook")
	}
	return nil
}

// ListWebhookDeliveries returns the endpoint's newest deliveries first.
func (s *Store) ListWebhookDeliveries(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Delivery, error) {
	if err := s.requireWebhook(ctx, s.db, appID, endpointID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q("SELECT "+deliveryCols+` FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.endpoint_id = ? AND d.app_id = ? ORDER BY d.n DESC LIMIT ?`), endpointID, appID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []webhook.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", err)
		}
		d.LeaseToken = ""
		out = append(out, *d)
	}
	return out, wrapRowsErr(rows, "list webhook deliveries")
}

// ListWebhookAttempts returns the endpoint's log, newest attempt first.
func (s *Store) ListWebhookAttempts(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Attempt, error) {
	if err := s.requireWebhook(ctx, s.db, appID, endpointID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT delivery_id, endpoint_id, event_id, event_type, attempt, status_code, latency_ms,
		error, response, at FROM webhook_attempts WHERE endpoint_id = ? AND app_id = ? ORDER BY n DESC LIMIT ?`),
		endpointID, appID, min(clampLimit(limit), webhook.LogSize))
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []webhook.Attempt{}
	for rows.Next() {
		var a webhook.Attempt
		var at int64
		if err := rows.Scan(&a.DeliveryID, &a.EndpointID, &a.EventID, &a.EventType, &a.Attempt, &a.StatusCode, &a.LatencyMillis,
			&a.Error, &a.Response, &at); err != nil {
			return nil, fmt.Errorf("list webhook attempts: %w", err)
		}
		a.At = fromMicros(at)
		out = append(out, a)
	}
	return out, wrapRowsErr(rows, "list webhook attempts")
}

// RedeliverWebhook queues a delivered (or given up) event again for the
// endpoint, as a new delivery of the same event: the receiver sees the
// same webhook-id and body. The event must have been meant for the
// endpoint; a redelivery while one is still open is CodeConflict.
func (s *Store) RedeliverWebhook(ctx context.Context, appID, endpointID, eventID string) (*webhook.Delivery, error) {
	var out *webhook.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.requireWebhook(ctx, tx, appID, endpointID); err != nil {
			return err
		}
		var convID, typ string
		err := tx.QueryRowContext(ctx, s.q(`SELECT e.conversation_id, e.type FROM webhook_events e WHERE e.id = ? AND e.app_id = ?
			AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.endpoint_id = ?)`),
			eventID, appID, endpointID).Scan(&convID, &typ)
		if err != nil {
			return notFound(err, "webhook event")
		}
		open, err := exists(ctx, tx, s.q(`SELECT 1 FROM webhook_deliveries WHERE endpoint_id = ? AND event_id = ?
			AND state IN ('pending', 'running')`), endpointID, eventID)
		if err != nil {
			return fmt.Errorf("redeliver webhook: %w", err)
		}
		if open {
			return chat.Errorf(chat.CodeConflict, "this event is already waiting to be delivered to this endpoint")
		}
		now := s.now()
		d := &webhook.Delivery{ID: chat.NewID(), AppID: appID, EndpointID: endpointID, EventID: eventID, EventType: webhook.EventType(typ),
			ConversationID: convID, State: webhook.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
		if err := s.insertRowsWith(ctx, tx, `webhook_deliveries (id, app_id, endpoint_id, event_id, conversation_id, state,
			attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, created_at, finished_at)`,
			"(?, ?, ?, ?, ?, ?, 0, ?, '', '', 0, ?, 0)",
			[][]any{{d.ID, appID, endpointID, eventID, convID, string(d.State), micros(now), micros(now)}}); err != nil {
			return fmt.Errorf("redeliver webhook: %w", err)
		}
		out = d
		return nil
	})
	return out, err
}
