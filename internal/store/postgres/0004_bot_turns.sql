-- The bot-turn queue: one row per unit of bot work, so that a node dying
-- mid-turn loses nothing (SPEC §9). A turn is pending, then running under a
-- lease (owner node, token, expiry) that only its holder may extend or end;
-- an expired lease lets another node take the turn over with a new token.
--
-- n is the enqueue order (an identity here, the rowid in SQLite); id is
-- the public id. pos orders a conversation's turns: twice the message's seq,
-- or for an event not tied to a message twice the conversation's last seq
-- when it was enqueued, plus one. So a welcome runs before the first message,
-- and a bot-to-bot handoff event after the messages already there, even when
-- their turns are enqueued after it. finished_at and
-- lease_expires_at are 0 when unset. bot_id has no foreign key: a turn's
-- record outlives its bot.
CREATE TABLE bot_turns (
	n                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id               TEXT NOT NULL UNIQUE,
	app_id           TEXT NOT NULL REFERENCES apps (id),
	conversation_id  TEXT NOT NULL REFERENCES conversations (id),
	bot_id           TEXT NOT NULL,
	kind             TEXT NOT NULL,
	message_seq      BIGINT NOT NULL,
	event            TEXT NOT NULL,
	pos              BIGINT NOT NULL,
	state            TEXT NOT NULL,
	attempts         INTEGER NOT NULL,
	lease_owner      TEXT NOT NULL,
	lease_token      TEXT NOT NULL,
	lease_expires_at BIGINT NOT NULL,
	note             TEXT NOT NULL,
	created_at       BIGINT NOT NULL,
	finished_at      BIGINT NOT NULL
);
-- One turn per contact message: enqueuing it twice is a no-op.
CREATE UNIQUE INDEX bot_turns_message ON bot_turns (conversation_id, message_seq) WHERE message_seq > 0;
-- Open turns are few next to finished ones; the claim reads only these.
CREATE INDEX bot_turns_open ON bot_turns (conversation_id, pos, n) WHERE state IN ('pending', 'running');
CREATE INDEX bot_turns_queue ON bot_turns (n) WHERE state IN ('pending', 'running');
