-- What the dashboard adds: invitations, internal notes, and an index for a
-- conversation's last handoff.

-- Invitations to join an app as an agent or admin. Only the SHA-256 of the
-- link's token is kept, so the table cannot be used to sign up. email is ''
-- when the admin left it open for the invitee to choose. An invitation is
-- used once: accepted_at and agent_id are set in the transaction that
-- creates the agent.
CREATE TABLE invites (
	id          TEXT PRIMARY KEY,
	app_id      TEXT NOT NULL REFERENCES apps (id),
	email       TEXT NOT NULL,
	role        TEXT NOT NULL,
	token_hash  BYTEA NOT NULL UNIQUE,
	created_by  TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	accepted_at BIGINT,
	agent_id    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX invites_app ON invites (app_id, id);

-- The dashboard's contact panel asks for a conversation's last handoff.
CREATE INDEX analytics_events_conversation ON analytics_events (conversation_id, kind, at);

-- Internal notes: what agents write to each other on a conversation. They
-- are not messages, so no contact, bot or webhook ever receives them.
CREATE TABLE conversation_notes (
	id              TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL REFERENCES apps (id),
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	agent_id        TEXT NOT NULL,
	text            TEXT NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, id);
