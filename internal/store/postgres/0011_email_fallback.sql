-- The email fallback: the contact's read position in each conversation,
-- and what has been emailed to contacts (unread agent replies) and to
-- offline agents (digests of conversations waiting for them). Times are
-- unix microseconds; 0 means "none".

-- How far the contact has read a conversation: the seq of the newest
-- message their widget showed them. It only moves forward.
CREATE TABLE conversation_reads (
	conversation_id TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL,
	read_seq        BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);

-- One row per conversation that has had an unread-reply email claimed.
-- Agent messages up to sent_seq are dealt with (emailed, or given up on).
-- A sender claims the row (a fresh claim_token, until claim_until) in the
-- transaction that checks the email is due, so of many nodes one sends;
-- claim_seq is the newest message its email covers, attempts counts the
-- claims since the last success, and retry_at holds the next claim back
-- after a failure.
CREATE TABLE contact_emails (
	conversation_id TEXT PRIMARY KEY,
	app_id          TEXT NOT NULL,
	sent_seq        BIGINT NOT NULL DEFAULT 0,
	claim_seq       BIGINT NOT NULL DEFAULT 0,
	claim_token     TEXT NOT NULL DEFAULT '',
	claim_until     BIGINT NOT NULL DEFAULT 0,
	attempts        BIGINT NOT NULL DEFAULT 0,
	retry_at        BIGINT NOT NULL DEFAULT 0,
	updated_at      BIGINT NOT NULL
);

-- One row per agent the sweep has looked at: since when they have been
-- offline (0 while connected), and the claim of their digest email, as
-- for contact_emails.
CREATE TABLE agent_emails (
	agent_id      TEXT PRIMARY KEY,
	app_id        TEXT NOT NULL,
	offline_since BIGINT NOT NULL DEFAULT 0,
	claim_token   TEXT NOT NULL DEFAULT '',
	claim_until   BIGINT NOT NULL DEFAULT 0,
	attempts      BIGINT NOT NULL DEFAULT 0,
	retry_at      BIGINT NOT NULL DEFAULT 0,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX agent_emails_app ON agent_emails (app_id, offline_since);

-- Which contact messages (up to sent_seq) of a conversation an agent's
-- digest already listed, so the next digest only lists what is new.
CREATE TABLE agent_email_conversations (
	agent_id        TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	app_id          TEXT NOT NULL,
	sent_seq        BIGINT NOT NULL,
	PRIMARY KEY (agent_id, conversation_id)
);
