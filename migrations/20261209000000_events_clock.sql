-- The log's order is (tx_id, position) with tx_id the inserting transaction's id, and readers
-- take what lies past their checkpoint in that order. A transaction id only grows within one
-- server: restored into another server by pg_dump and pg_restore (or copied by logical
-- replication), the log keeps the source's ids while the new server counts from its own, often
-- far lower. Every event appended there would sort before the restored ones, behind every
-- checkpoint: projections, notifications and the seal would never see it.
--
-- So tx_id counts on the log's own clock: the server's transaction id plus a shift. The shift is
-- a constant in the column's default (no cost per row) and in `events_clock`, which the read
-- horizon adds; events_clock_catch_up() raises both together when the log is found ahead of the
-- clock, which every `loyalty` command checks when it connects. A physical copy (base backup,
-- streaming replica, pg_upgrade) keeps the server's transaction ids and never needs it.

CREATE TABLE events_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    shift     bigint  NOT NULL DEFAULT 0 CHECK (shift >= 0),
    -- When and by how much the shift last rose: the mark a restore leaves.
    raised_at timestamptz,
    raised_by bigint
);
INSERT INTO events_clock DEFAULT VALUES;

REVOKE ALL ON events_clock FROM loyalty_service;
GRANT SELECT ON events_clock TO loyalty_service;

-- The horizon as before, on the log's clock.
CREATE OR REPLACE FUNCTION events_read_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
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
    ) + (SELECT shift FROM events_clock)
      FROM snapshot
$$;

-- Raises the clock past the log when the log is ahead of it, and returns by how much (0: it was
-- not). Safe to call at any time from any role: on a log written on this server the newest
-- visible tx_id is always below the snapshot's xmax on the clock, so it changes nothing. The
-- lock waits for appends in flight and holds new ones until the new default is in place.
CREATE FUNCTION events_clock_catch_up() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    newest bigint;
    current_shift bigint;
    behind bigint;
BEGIN
    SELECT shift INTO current_shift FROM events_clock;
    SELECT tx_id INTO newest FROM events ORDER BY tx_id DESC, position DESC LIMIT 1;
    IF newest IS NULL
       OR newest < pg_snapshot_xmax(pg_current_snapshot())::text::bigint + current_shift THEN
        RETURN 0;
    END IF;
    LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
    SELECT shift INTO current_shift FROM events_clock FOR UPDATE;
    SELECT tx_id INTO newest FROM events ORDER BY tx_id DESC, position DESC LIMIT 1;
    behind := newest + 1 - (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + current_shift);
    IF behind <= 0 THEN
        RETURN 0;
    END IF;
    UPDATE events_clock
       SET shift = current_shift + behind, raised_at = now(), raised_by = behind;
    EXECUTE format(
        'ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint + %s)',
        current_shift + behind);
    RETURN behind;
END $$;

REVOKE ALL ON FUNCTION events_clock_catch_up() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION events_clock_catch_up() TO loyalty_service;
