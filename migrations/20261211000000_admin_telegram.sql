-- Managers may sign in with Telegram (the Login Widget) instead of a password: an account links
-- its own Telegram user, proven by the widget's signature, and at most one account holds each.
-- The username is kept only to show which Telegram account is linked; both go when unlinked.
ALTER TABLE admin_users
    ADD COLUMN telegram_id bigint UNIQUE CHECK (telegram_id > 0),
    ADD COLUMN telegram_username text;

-- `telegram` changes (linked or unlinked) join the account history; the id is never written
-- there, so unlinking leaves no trace of which Telegram user it was.
COMMENT ON COLUMN admin_user_changes.change IS
    'created | role | disabled | enabled | password | programs | telegram';
