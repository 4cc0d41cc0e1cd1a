-- The append-only event log: the single source of truth. Read models are derived from it.

CREATE TABLE events (
    -- Global order of insertion. Assigned at insert, so commits can land out of this order:
    -- readers use (tx_id, position) below the oldest running transaction (see read_all).
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The inserting transaction (xid8 as bigint): what makes gap-safe reading possible.
    tx_id           bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    program_id      uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  smallint    NOT NULL,
    payload         jsonb       NOT NULL,
    -- actor, causation_id, correlation_id, delivery_id
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    -- sha256(previous event's hash in the stream || version || content digest): a hash chain.
    hash            bytea       NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX events_tx_position_idx ON events (tx_id, position);
CREATE INDEX events_program_recorded_idx ON events (program_id, recorded_at);
CREATE INDEX events_type_idx ON events (event_type, position);

-- Immutability, enforced by the database itself: no UPDATE, DELETE or TRUNCATE, ever.
CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

-- Appends many commits in one round trip. Each commit (group) is all-or-nothing: it is
-- skipped as 'duplicate' if any of its event ids exists, as 'conflict' if a stream's head is
-- not the expected version (-1 = any, 0 = no stream, n = exactly n). Events of one group are
-- consecutive in the arrays, and events of one stream consecutive within their group.
CREATE FUNCTION append_events(
    p_group    int[],
    p_program  uuid[],
    p_stream   text[],
    p_expected bigint[],
    p_event_id uuid[],
    p_type     text[],
    p_schema   smallint[],
    p_payload  jsonb[],
    p_metadata jsonb[],
    p_digest   bytea[]
) RETURNS TABLE (group_no int, status text, conflict_stream text, actual_version bigint,
                 positions bigint[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    n          int := coalesce(array_length(p_group, 1), 0);
    g_start    int := 1;
    g_end      int;
    i          int;
    j          int;
    head_v     bigint;
    head_hash  bytea;
    v          bigint;
    h          bytea;
    pos        bigint;
    bad        boolean;
    cur_stream text;
BEGIN
    WHILE g_start <= n LOOP
        g_end := g_start;
        WHILE g_end < n AND p_group[g_end + 1] = p_group[g_start] LOOP
            g_end := g_end + 1;
        END LOOP;
        group_no := p_group[g_start];
        conflict_stream := NULL;
        actual_version := NULL;
        positions := NULL;

        -- One index probe per id: `= ANY(slice)` gets a sequential scan from the planner.
        bad := false;
        FOR i IN g_start..g_end LOOP
            IF EXISTS (SELECT 1 FROM events e WHERE e.event_id = p_event_id[i]) THEN
                bad := true;
                EXIT;
            END IF;
        END LOOP;
        IF bad THEN
            status := 'duplicate';
            RETURN NEXT;
        ELSE
            bad := false;
            i := g_start;
            WHILE i <= g_end AND NOT bad LOOP
                head_v := NULL;
                SELECT e.stream_version INTO head_v FROM events e
                 WHERE e.stream_id = p_stream[i] ORDER BY e.stream_version DESC LIMIT 1;
                head_v := coalesce(head_v, 0);
                IF p_expected[i] >= 0 AND head_v <> p_expected[i] THEN
                    bad := true;
                    conflict_stream := p_stream[i];
                    actual_version := head_v;
                END IF;
                j := i;
                WHILE j < g_end AND p_stream[j + 1] = p_stream[i] LOOP
                    j := j + 1;
                END LOOP;
                i := j + 1;
            END LOOP;

            IF bad THEN
                status := 'conflict';
                RETURN NEXT;
            ELSE
                positions := '{}';
                cur_stream := NULL;
                FOR i IN g_start..g_end LOOP
                    IF cur_stream IS DISTINCT FROM p_stream[i] THEN
                        cur_stream := p_stream[i];
                        head_v := NULL;
                        head_hash := NULL;
                        SELECT e.stream_version, e.hash INTO head_v, head_hash FROM events e
                         WHERE e.stream_id = cur_stream ORDER BY e.stream_version DESC LIMIT 1;
                        v := coalesce(head_v, 0);
                        h := coalesce(head_hash, ''::bytea);
                    END IF;
                    v := v + 1;
                    h := sha256(h || int8send(v) || p_digest[i]);
                    INSERT INTO events (program_id, stream_id, stream_version, event_id, event_type,
                                        schema_version, payload, metadata, hash)
                    VALUES (p_program[i], cur_stream, v, p_event_id[i], p_type[i], p_schema[i],
                            p_payload[i], p_metadata[i], h)
                    RETURNING position INTO pos;
                    positions := positions || pos;
                END LOOP;
                status := 'ok';
                RETURN NEXT;
            END IF;
        END IF;
        g_start := g_end + 1;
    END LOOP;
END $$;
