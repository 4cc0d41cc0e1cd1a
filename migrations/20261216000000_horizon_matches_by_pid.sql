-- The read horizon matched an appender's transaction id lock with its registration by
-- `virtualtransaction`, which pg_lock_status() reads from the holder's live PGPROC entry by
-- entry, not from the frozen lock table. A committing transaction clears its local id
-- (ProcArrayEndTransaction) before it releases its locks, so one copy of the lock table could
-- show its id lock under its old virtual id and its registration under none: the horizon took
-- it for a transaction that never appends, and passed it while the reader's snapshot still saw
-- it running. A follower then skipped that commit for good. The backend's pid does not change
-- with its transaction, and a backend runs one transaction at a time, so matching by pid is
-- exact: in one copy of the lock table (every partition lock held, so nothing is acquired or
-- released during it) an id lock and a registration held by the same pid belong to the same
-- transaction.
CREATE OR REPLACE FUNCTION events_read_horizon() RETURNS bigint LANGUAGE sql STABLE AS $$
    WITH snapshot AS (
        SELECT pg_current_snapshot() AS s
    ),
    locks AS MATERIALIZED (
        SELECT locktype, pid, transactionid, classid, objsubid, database, mode, granted
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
                  AND reg.pid = own.pid
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
