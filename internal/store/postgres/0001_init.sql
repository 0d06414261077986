-- Times are unix microseconds. JSON values (metadata, chat context,
-- attachments, location, bot settings) are stored as text: they are read and
-- written whole, never queried inside.
CREATE TABLE apps (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE agents (
	id            TEXT PRIMARY KEY,
	app_id        TEXT NOT NULL REFERENCES apps (id),
	email         TEXT NOT NULL,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	presence      TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);
-- Sign-in is by email alone, so emails are unique across apps.
CREATE UNIQUE INDEX agents_email ON agents (email);
CREATE INDEX agents_app ON agents (app_id, id);

CREATE TABLE teams (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id),
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX teams_app ON teams (app_id, id);

CREATE TABLE team_members (
	team_id  TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	position BIGINT NOT NULL,
	PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

CREATE TABLE bots (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id),
	type       TEXT NOT NULL,
	name       TEXT NOT NULL,
	avatar_url TEXT NOT NULL,
	enabled    BOOLEAN NOT NULL,
	settings   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX bots_app ON bots (app_id, id);

CREATE TABLE contacts (
	id           TEXT PRIMARY KEY,
	app_id       TEXT NOT NULL REFERENCES apps (id),
	user_id      TEXT NOT NULL,
	name         TEXT NOT NULL,
	email        TEXT NOT NULL,
	language     TEXT NOT NULL,
	chat_context TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_user ON contacts (app_id, user_id) WHERE user_id <> '';

CREATE TABLE conversations (
	id            TEXT PRIMARY KEY,
	app_id        TEXT NOT NULL REFERENCES apps (id),
	contact_id    TEXT NOT NULL REFERENCES contacts (id),
	status        BIGINT NOT NULL,
	assignee_type TEXT NOT NULL,
	assignee_id   TEXT NOT NULL,
	team_id       TEXT NOT NULL,
	metadata      TEXT NOT NULL,
	-- The seq of the newest message. Appends lock this row, which makes seq
	-- allocation gap-free and the client_key check race-free.
	last_seq      BIGINT NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX conversations_app ON conversations (app_id, id);
CREATE INDEX conversations_status ON conversations (app_id, status, id);
CREATE INDEX conversations_assignee ON conversations (app_id, assignee_id, id);
CREATE INDEX conversations_team ON conversations (app_id, team_id, id);
CREATE INDEX conversations_contact ON conversations (app_id, contact_id, id);

-- messages.conversation_id has no FOREIGN KEY on purpose. The only writer,
-- the group-commit batch, locks each conversation row (SELECT … FOR UPDATE)
-- and checks its app in the same transaction before inserting, and
-- conversations are never deleted; a foreign key would repeat that check as a
-- per-row trigger, which cost about a third of append throughput here.
CREATE TABLE messages (
	id              TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	sender_type     TEXT NOT NULL,
	sender_id       TEXT NOT NULL,
	text            TEXT NOT NULL,
	content_type    BIGINT NOT NULL,
	metadata        TEXT NOT NULL,
	attachments     TEXT NOT NULL,
	location        TEXT NOT NULL,
	client_key      TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_key ON messages (conversation_id, client_key) WHERE client_key <> '';

CREATE TABLE uploads (
	id          TEXT PRIMARY KEY,
	app_id      TEXT NOT NULL REFERENCES apps (id),
	name        TEXT NOT NULL,
	mime_type   TEXT NOT NULL,
	size        BIGINT NOT NULL,
	storage_key TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	app_id       TEXT NOT NULL REFERENCES apps (id),
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL UNIQUE,
	hash         BYTEA NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT
);
CREATE INDEX api_keys_app ON api_keys (app_id, id);

CREATE TABLE sessions (
	token_hash BYTEA PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id),
	agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
