-- Sign-in failures are also counted per client address whatever the username typed.
CREATE INDEX admin_login_failures_client_idx ON admin_login_failures (client, failed_at);
