-- The admin panel's accounts, sessions and login throttling. Operational tables, not ledger
-- facts: every change a manager makes to points, campaigns, rewards or rules is still an event
-- with the manager as its actor; these rows only say who may sign in.

-- One account of the admin panel. `password_hash` is an Argon2id PHC string
-- ($argon2id$v=19$m=..,t=..,p=..$salt$hash): algorithm, parameters and salt travel with the hash.
CREATE TABLE admin_users (
    username      text        PRIMARY KEY CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'manager', 'auditor')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- A disabled account cannot sign in and its sessions stop working.
    disabled_at   timestamptz
);

-- A signed-in browser. The cookie carries a random 256-bit token; only its SHA-256 is stored,
-- so a copy of this table signs nobody in. The CSRF token is sent back by the API to the page
-- (never in a cookie) and must come back in X-CSRF-Token on every state change.
CREATE TABLE admin_sessions (
    token_sha256 bytea       PRIMARY KEY,
    username     text        NOT NULL REFERENCES admin_users (username) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    client       text        NOT NULL DEFAULT ''
);
CREATE INDEX admin_sessions_expiry_idx ON admin_sessions (expires_at);
CREATE INDEX admin_sessions_user_idx ON admin_sessions (username);

-- Failed sign-ins, counted per (username, client address) over a sliding window; old rows are
-- deleted as new ones arrive. The username is stored as typed (lower-cased), existing or not.
CREATE TABLE admin_login_failures (
    username  text        NOT NULL,
    client    text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_login_failures_key_idx ON admin_login_failures (username, client, failed_at);
CREATE INDEX admin_login_failures_age_idx ON admin_login_failures (failed_at);
