-- Who changed which admin panel account, when, and how: creation, role, disabling and enabling,
-- a new password (never the password), the programs it may see. Written in the transaction of
-- the change itself; admins and auditors read it beside the audit log. Rows are never changed.
CREATE TABLE admin_user_changes (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    -- `manager:<username>` from the panel, `cli` from `loyalty admin create-user`, `demo`.
    actor    text        NOT NULL,
    username text        NOT NULL,
    -- created | role | disabled | enabled | password | programs
    change   text        NOT NULL,
    detail   jsonb       NOT NULL DEFAULT '{}'
);

CREATE FUNCTION admin_user_changes_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_user_changes is append-only';
END;
$$;
CREATE TRIGGER admin_user_changes_append_only BEFORE UPDATE OR DELETE ON admin_user_changes
    FOR EACH ROW EXECUTE FUNCTION admin_user_changes_are_kept();
