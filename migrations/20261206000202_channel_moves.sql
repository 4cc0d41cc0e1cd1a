-- Every time a channel followed its destination to a new id (a Telegram group that became a
-- supergroup), with the program it belongs to. Append-only, like the log: the history of where
-- a program's deliveries come from is not edited.
CREATE TABLE channel_moves (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network           text        NOT NULL,
    program_id        uuid        NOT NULL,
    from_destination  text        NOT NULL,
    to_destination    text        NOT NULL,
    reason            text        NOT NULL,
    moved_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_moves_program_idx ON channel_moves (program_id, moved_at);

CREATE FUNCTION channel_moves_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'channel moves are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER channel_moves_no_update BEFORE UPDATE ON channel_moves
    FOR EACH ROW EXECUTE FUNCTION channel_moves_reject_change();
CREATE TRIGGER channel_moves_no_delete BEFORE DELETE ON channel_moves
    FOR EACH ROW EXECUTE FUNCTION channel_moves_reject_change();
CREATE TRIGGER channel_moves_no_truncate BEFORE TRUNCATE ON channel_moves
    FOR EACH STATEMENT EXECUTE FUNCTION channel_moves_reject_change();
