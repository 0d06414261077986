-- The round-robin cursor of each app (team_id '') and team: the id of the
-- agent round robin picked last. It lives in the database, not in a node's
-- memory, so that every node turns one wheel: a placement locks this row
-- for its whole transaction (store.Store.AssignRoundRobin), and the next
-- placement, from any node, reads the cursor it left. team_id has no
-- foreign key because '' stands for the app itself.
CREATE TABLE round_robin_cursors (
	app_id        TEXT NOT NULL REFERENCES apps (id),
	team_id       TEXT NOT NULL,
	last_agent_id TEXT NOT NULL,
	PRIMARY KEY (app_id, team_id)
);

-- Open-chat counts per agent are read inside that lock on every placement;
-- this index answers them without scanning the app's closed history.
CREATE INDEX conversations_agent_load ON conversations (app_id, assignee_type, assignee_id, status);
