-- Bots gain auto handoff. Existing rows read as off, the same as a bot made
-- in code without the field, so an upgrade changes no bot's behaviour.
ALTER TABLE bots ADD COLUMN auto_handoff BOOLEAN NOT NULL DEFAULT FALSE;

-- Conversation rules, one JSON document per app (team_id '') and per team
-- that overrides them. A missing row means the defaults (or, for a team,
-- "inherit everything"). The document is read and written whole; the engine's
-- round-robin cursor lives elsewhere, so that routing a conversation never
-- rewrites (or races with an admin saving) the rules.
CREATE TABLE rules (
	app_id     TEXT NOT NULL REFERENCES apps (id),
	team_id    TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (app_id, team_id)
);
