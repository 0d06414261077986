-- Canned replies, and the intent of a bot's last turn.

-- Canned replies: an app's saved answers, which an agent inserts in the
-- composer by typing their shortcut ("/hello"). A shortcut names one reply
-- per app.
CREATE TABLE canned_replies (
	id         TEXT PRIMARY KEY,
	app_id     TEXT NOT NULL REFERENCES apps (id),
	shortcut   TEXT NOT NULL,
	text       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies (app_id, shortcut);

-- The intent the bot understood in its last turn of the conversation,
-- written with its state when the turn finishes, for the contact panel.
ALTER TABLE bot_states ADD COLUMN intent TEXT NOT NULL DEFAULT '';
