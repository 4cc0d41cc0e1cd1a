-- The seal over the log's order: blocks of consecutive events in the gap-safe order
-- (tx_id, position), each digest chained to the one before. A worker appends them after the
-- events commit (projections::seal), so appends take no global lock. Per-stream hash chains
-- show an edited event; the seal also shows deleted, inserted, reordered and consistently
-- rewritten events, and an anchor kept outside the database pins the history up to a block.

CREATE TABLE log_seal (
    block             bigint      PRIMARY KEY CHECK (block > 0),
    -- The block covers the events after the previous block's last checkpoint up to its own.
    first_tx_id       bigint      NOT NULL,
    first_position    bigint      NOT NULL,
    last_tx_id        bigint      NOT NULL,
    last_position     bigint      NOT NULL,
    count             bigint      NOT NULL CHECK (count > 0),
    -- Events sealed in this block and every one before it.
    total             bigint      NOT NULL,
    -- Each event's position and the first 8 bytes of its leaf digest, in log order: the audit
    -- finds the first event that differs from what was sealed.
    positions         bigint[]    NOT NULL,
    leaf_prefixes     bytea       NOT NULL,
    -- sha256 over the block's leaf digests (see projections::seal::leaf_digest).
    events_digest     bytea       NOT NULL,
    prev_block_digest bytea       NOT NULL,
    -- sha256(prev || block || first || last || count || total || events_digest), 8-byte
    -- big-endian integers; recomputed below on insert.
    block_digest      bytea       NOT NULL,
    sealed_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(positions) = count AND length(leaf_prefixes) = 8 * count),
    CHECK ((first_tx_id, first_position) <= (last_tx_id, last_position))
);

CREATE FUNCTION log_seal_block_digest(b log_seal) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(b.prev_block_digest || int8send(b.block)
                  || int8send(b.first_tx_id) || int8send(b.first_position)
                  || int8send(b.last_tx_id) || int8send(b.last_position)
                  || int8send(b.count) || int8send(b.total) || b.events_digest)
$$;

-- A block must extend the chain: the next number, after the previous block's last event,
-- linked to its digest, with a digest that matches its own fields.
CREATE FUNCTION log_seal_check_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p_block    bigint;
    p_tx_id    bigint;
    p_position bigint;
    p_total    bigint;
    p_digest   bytea;
BEGIN
    SELECT block, last_tx_id, last_position, total, block_digest
      INTO p_block, p_tx_id, p_position, p_total, p_digest
      FROM log_seal ORDER BY block DESC LIMIT 1;
    IF NEW.block <> coalesce(p_block, 0) + 1
       OR NEW.prev_block_digest <> coalesce(p_digest, ''::bytea)
       OR NEW.total <> coalesce(p_total, 0) + NEW.count
       OR (p_block IS NOT NULL
           AND (NEW.first_tx_id, NEW.first_position) <= (p_tx_id, p_position))
       OR NEW.block_digest <> log_seal_block_digest(NEW) THEN
        RAISE EXCEPTION 'log seal block % does not extend the chain', NEW.block
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER log_seal_link BEFORE INSERT ON log_seal
    FOR EACH ROW EXECUTE FUNCTION log_seal_check_link();

CREATE FUNCTION log_seal_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'log seal blocks are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER log_seal_no_update BEFORE UPDATE ON log_seal
    FOR EACH ROW EXECUTE FUNCTION log_seal_reject_change();
CREATE TRIGGER log_seal_no_delete BEFORE DELETE ON log_seal
    FOR EACH ROW EXECUTE FUNCTION log_seal_reject_change();
CREATE TRIGGER log_seal_no_truncate BEFORE TRUNCATE ON log_seal
    FOR EACH STATEMENT EXECUTE FUNCTION log_seal_reject_change();
