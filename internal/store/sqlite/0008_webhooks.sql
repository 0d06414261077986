-- Outgoing webhooks (SPEC §7). An endpoint's credentials (signing secret,
-- optional basic auth) are sealed by the service; the store never sees them
-- in clear. events is a JSON array of event types.
CREATE TABLE webhook_endpoints (
	id              TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL REFERENCES apps (id),
	url             TEXT NOT NULL,
	events          TEXT NOT NULL,
	enabled         BOOLEAN NOT NULL,
	disabled_reason TEXT NOT NULL,
	failures        INTEGER NOT NULL,
	failing_since   INTEGER NOT NULL,
	sealed          BLOB NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints (app_id, enabled);

-- The outbox. An event row is written in the transaction of the change that
-- caused it, with one delivery row per endpoint subscribed at that moment,
-- so a change and its webhooks commit or roll back together. body is the
-- exact request body every attempt sends.
CREATE TABLE webhook_events (
	id              TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL REFERENCES apps (id),
	type            TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	body            TEXT NOT NULL,
	created_at      INTEGER NOT NULL
);

-- Deliveries are leased like bot turns: pending, then running under a lease
-- only its holder may finish; an expired lease lets another node take the
-- delivery over. n orders them; a conversation's deliveries to one endpoint
-- go out one at a time in n order. Times are 0 when unset.
CREATE TABLE webhook_deliveries (
	n                INTEGER PRIMARY KEY,
	id               TEXT NOT NULL UNIQUE,
	app_id           TEXT NOT NULL REFERENCES apps (id),
	endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id         TEXT NOT NULL REFERENCES webhook_events (id),
	conversation_id  TEXT NOT NULL,
	state            TEXT NOT NULL,
	attempts         INTEGER NOT NULL,
	next_attempt_at  INTEGER NOT NULL,
	lease_owner      TEXT NOT NULL,
	lease_token      TEXT NOT NULL,
	lease_expires_at INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	finished_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (endpoint_id, conversation_id, n) WHERE state IN ('pending', 'running');
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (n) WHERE state IN ('pending', 'running');
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, n);

-- The delivery log: the last attempts per endpoint (older ones are pruned).
CREATE TABLE webhook_attempts (
	n              INTEGER PRIMARY KEY,
	app_id         TEXT NOT NULL REFERENCES apps (id),
	endpoint_id    TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	delivery_id    TEXT NOT NULL,
	event_id       TEXT NOT NULL,
	event_type     TEXT NOT NULL,
	attempt        INTEGER NOT NULL,
	status_code    INTEGER NOT NULL,
	latency_ms     INTEGER NOT NULL,
	error          TEXT NOT NULL,
	response       TEXT NOT NULL,
	at             INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, n);
