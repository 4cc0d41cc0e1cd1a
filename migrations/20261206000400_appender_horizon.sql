-- The gap-safe read horizon counts only transactions that can append events.
--
-- Readers take events below a horizon: every transaction with a smaller id that will ever
-- insert events must have finished. It used to be the oldest transaction still running on the
-- whole server, so any open transaction (another database's, one that never touches `events`)
-- froze every projection. Now a transaction that inserts into `events` registers first, before
-- it has a transaction id, by taking a transaction-scoped advisory lock of its own (one key per
-- backend, so appenders share no lock object). A running transaction that already has an id but
-- holds no registration can therefore never append (the trigger below refuses it), and readers
-- may pass it.

-- Registers the inserting transaction as an appender; refuses one that wrote something else
-- first (it has an id readers may already have passed). Once per transaction: the flag is a
-- transaction-local setting, reset at its end like the lock.
CREATE FUNCTION events_register_appender() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END $$;

-- Per statement, before its first row gets the transaction its id: every way in (append_events,
-- COPY, a plain INSERT) registers.
CREATE TRIGGER events_register_appender BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_register_appender();

-- The horizon (a transaction id as bigint, like events.tx_id): events with a smaller tx_id are
-- final. It is the oldest transaction running in the caller's snapshot that is not known never
-- to append, else the snapshot's xmax. Known never to append: it holds its own transaction id
-- lock and no registration in the same instant of the lock table (one consistent copy), so it
-- had an id before registering and the trigger will refuse its events. Everything else holds the
-- horizon back: registered appenders; transactions that ended after the snapshot was taken
-- (the lock table no longer shows them); one whose id is too new to be in the lock table yet.
-- Transactions without an id are not in the snapshot and never count.
CREATE FUNCTION events_read_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    WITH snapshot AS (
        SELECT pg_current_snapshot() AS s
    ),
    locks AS MATERIALIZED (
        SELECT locktype, virtualtransaction, transactionid, classid, objsubid, database, mode,
               granted
          FROM pg_lock_status()
    ),
    never_appending AS (
        SELECT own.transactionid::text::bigint AS xid32
          FROM locks own
         WHERE own.locktype = 'transactionid'
           AND own.mode = 'ExclusiveLock'
           AND own.granted
           AND NOT EXISTS (
               SELECT 1 FROM locks reg
                WHERE reg.locktype = 'advisory'
                  AND reg.virtualtransaction = own.virtualtransaction
                  AND reg.objsubid = 2
                  AND reg.classid::text::bigint
                      = (hashtext('loyalty.appender')::bigint + 4294967296) % 4294967296
                  AND reg.database = (SELECT oid FROM pg_database
                                       WHERE datname = current_database()))
    )
    SELECT least(
        pg_snapshot_xmax(s)::text::bigint,
        (SELECT min(x::text::bigint)
           FROM pg_snapshot_xip(s) AS x
          WHERE x::text::bigint % 4294967296 NOT IN (SELECT xid32 FROM never_appending))
    )
      FROM snapshot
$$;
