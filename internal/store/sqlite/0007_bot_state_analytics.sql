-- Connector state per conversation and bot: what a bot's connector keeps
-- between turns (Lex's session attributes, a fallback count). A row also
-- says the bot takes part in the conversation; state is '' when the
-- connector keeps nothing. Written in the transaction that finishes the
-- turn, so the next turn never starts from a state its predecessor did not
-- commit. bot_id has no foreign key: a deleted bot's rows are only noise.
CREATE TABLE bot_states (
	app_id          TEXT NOT NULL REFERENCES apps (id),
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	bot_id          TEXT NOT NULL,
	state           TEXT NOT NULL,
	updated_at      INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, bot_id)
);

-- Analytics events, recorded when they happen. key is unique per app, so a
-- step that runs twice (a re-run bot turn, two nodes sweeping) records its
-- event once. value is milliseconds for a first response, the rating for
-- CSAT.
CREATE TABLE analytics_events (
	n               INTEGER PRIMARY KEY,
	app_id          TEXT NOT NULL REFERENCES apps (id),
	key             TEXT NOT NULL,
	kind            TEXT NOT NULL,
	conversation_id TEXT NOT NULL REFERENCES conversations (id),
	bot_id          TEXT NOT NULL,
	agent_id        TEXT NOT NULL,
	reason          TEXT NOT NULL,
	intent          TEXT NOT NULL,
	value           INTEGER NOT NULL,
	comment         TEXT NOT NULL,
	at              INTEGER NOT NULL
);
CREATE UNIQUE INDEX analytics_events_key ON analytics_events (app_id, key);
CREATE INDEX analytics_events_window ON analytics_events (app_id, kind, at);

-- The auto-resolve sweep reads an app's open conversations by last activity.
CREATE INDEX conversations_idle ON conversations (app_id, updated_at) WHERE status NOT IN (2, 3, 4);
-- Conversations per window, for the analytics summary.
CREATE INDEX conversations_created ON conversations (app_id, created_at);
