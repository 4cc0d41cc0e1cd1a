-- An external account's reference is recorded by the commit that first names it, in the same
-- transaction as its events: a first sight costs no statement of its own, no event can name a
-- reference the mapping lacks, and a reference issued by two writers at once is refused to
-- the later one ('account_taken'), which then uses the stored one. Adds six arrays to
-- append_events, empty by default (a caller that names no new account passes the ten arrays it
-- always did); the old signature is dropped so there is one way to append.
--
-- The account row is written before the events, so the transaction must register as an
-- appender before it (see 20261206000400_appender_horizon.sql): the registration moves into a
-- function both the trigger on `events` and append_events call.
CREATE FUNCTION events_register_as_appender() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('loyalty.appender', true) IS DISTINCT FROM 'on' THEN
        IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
            RAISE EXCEPTION 'events must be the first thing a transaction writes'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'append in a transaction of its own';
        END IF;
        PERFORM pg_advisory_xact_lock_shared(hashtext('loyalty.appender'), pg_backend_pid()),
                set_config('loyalty.appender', 'on', true);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION events_register_appender() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM events_register_as_appender();
    RETURN NULL;
END $$;

DROP FUNCTION append_events(int[], uuid[], text[], bigint[], uuid[], text[], smallint[], jsonb[],
                            jsonb[], bytea[]);
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
    p_digest   bytea[],
    -- New external accounts, each recorded with the commit (group) that first names it; sorted
    -- by group as the events are.
    p_acc_group    int[] DEFAULT '{}',
    p_acc_ref      uuid[] DEFAULT '{}',
    p_acc_program  uuid[] DEFAULT '{}',
    p_acc_network  text[] DEFAULT '{}',
    p_acc_scope    text[] DEFAULT '{}',
    p_acc_platform text[] DEFAULT '{}'
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
    m          int := coalesce(array_length(p_acc_group, 1), 0);
    a          int := 1;
    a_end      int;
    stored_ref uuid;
    refusal    text;
BEGIN
    IF m > 0 THEN
        PERFORM events_register_as_appender();
    END IF;
    WHILE g_start <= n LOOP
        g_end := g_start;
        WHILE g_end < n AND p_group[g_end + 1] = p_group[g_start] LOOP
            g_end := g_end + 1;
        END LOOP;
        group_no := p_group[g_start];
        conflict_stream := NULL;
        actual_version := NULL;
        positions := NULL;
        refusal := NULL;

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

            -- The group's new accounts, once its heads are known to be right: each is inserted,
            -- or must already be there under the same reference (an earlier commit of the same
            -- first sight). Another reference means another writer issued one first.
            WHILE a <= m AND p_acc_group[a] < group_no LOOP
                a := a + 1;
            END LOOP;
            a_end := a;
            WHILE NOT bad AND a_end <= m AND p_acc_group[a_end] = group_no LOOP
                INSERT INTO external_accounts (account_ref, program_id, network, scope, platform_id)
                VALUES (p_acc_ref[a_end], p_acc_program[a_end], p_acc_network[a_end],
                        p_acc_scope[a_end], p_acc_platform[a_end])
                ON CONFLICT DO NOTHING;
                IF NOT FOUND THEN
                    SELECT x.account_ref INTO stored_ref FROM external_accounts x
                     WHERE x.program_id = p_acc_program[a_end] AND x.network = p_acc_network[a_end]
                       AND x.scope = p_acc_scope[a_end] AND x.platform_id = p_acc_platform[a_end];
                    IF stored_ref IS DISTINCT FROM p_acc_ref[a_end] THEN
                        refusal := 'account_taken';
                        bad := true;
                    END IF;
                END IF;
                a_end := a_end + 1;
            END LOOP;

            IF bad THEN
                status := coalesce(refusal, 'conflict');
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
