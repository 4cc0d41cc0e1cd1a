-- append_events reads each stream's head once per commit: the version it checks is the one it
-- writes after. It used to read the head again before writing, a second index probe per
-- stream, and under READ COMMITTED that second read could see a head another transaction had
-- just committed and chain onto it, past the expected-version check (the unique constraint on
-- (stream_id, stream_version) still refused a version taken twice; now the check itself holds).
-- Same signature, same answers.
CREATE OR REPLACE FUNCTION append_events(
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
    k          int;
    head_v     bigint;
    head_hash  bytea;
    -- The heads of the group's streams, in the order the group names them.
    heads_v    bigint[];
    heads_h    bytea[];
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
            heads_v := '{}';
            heads_h := '{}';
            i := g_start;
            WHILE i <= g_end AND NOT bad LOOP
                head_v := NULL;
                head_hash := NULL;
                SELECT e.stream_version, e.hash INTO head_v, head_hash FROM events e
                 WHERE e.stream_id = p_stream[i] ORDER BY e.stream_version DESC LIMIT 1;
                head_v := coalesce(head_v, 0);
                IF p_expected[i] >= 0 AND head_v <> p_expected[i] THEN
                    bad := true;
                    conflict_stream := p_stream[i];
                    actual_version := head_v;
                END IF;
                heads_v := heads_v || head_v;
                heads_h := heads_h || coalesce(head_hash, ''::bytea);
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
                k := 0;
                FOR i IN g_start..g_end LOOP
                    IF cur_stream IS DISTINCT FROM p_stream[i] THEN
                        cur_stream := p_stream[i];
                        k := k + 1;
                        v := heads_v[k];
                        h := heads_h[k];
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
