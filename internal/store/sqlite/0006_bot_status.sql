-- A bot's health as admins see it: 'ok', 'credentials_invalid' or
-- 'misconfigured', with a sentence saying why. Existing bots start ok; the
-- next failed turn or validation says otherwise.
ALTER TABLE bots ADD COLUMN status TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE bots ADD COLUMN status_detail TEXT NOT NULL DEFAULT '';
