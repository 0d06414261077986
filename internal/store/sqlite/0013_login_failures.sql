-- Failed sign-ins, counted per subject (the SHA-256 of an email, or a client
-- address) so that every node enforces the same brute-force limit. Rows
-- older than the limit's window are deleted as new ones arrive, so the
-- table holds at most one window of failures.
CREATE TABLE login_failures (
	subject TEXT NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);
CREATE INDEX login_failures_at ON login_failures (at);
