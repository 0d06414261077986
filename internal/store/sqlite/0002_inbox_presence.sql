-- The inbox stream: every change to an app's list of conversations (created,
-- assigned, status changed, team or metadata changed), numbered per app so a
-- dashboard resumes exactly where it left off. apps.inbox_seq is the newest
-- number; the transaction that changes a conversation bumps it and inserts
-- the event, so numbers have no gaps and the stream never disagrees with the
-- conversations. The conversation is stored as it was right after the change.
ALTER TABLE apps ADD COLUMN inbox_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE inbox_events (
	app_id          TEXT NOT NULL REFERENCES apps (id),
	seq             INTEGER NOT NULL,
	kind            TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	conversation    TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	PRIMARY KEY (app_id, seq)
);

-- Which agents each node holds live connections for, until expires_at. A
-- node replaces its rows whenever it refreshes them; a node that dies stops
-- refreshing and its rows expire. No foreign keys: rows are short-lived
-- hints for presence, always read with an app id and an expiry filter.
CREATE TABLE node_connections (
	node_id    TEXT NOT NULL,
	app_id     TEXT NOT NULL,
	agent_id   TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (node_id, app_id, agent_id)
);
CREATE INDEX node_connections_app ON node_connections (app_id, expires_at);
CREATE INDEX node_connections_expires ON node_connections (expires_at);
