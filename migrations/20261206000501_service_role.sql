-- The role `loyalty serve` works as (it switches to it on every connection): it may read and
-- append events and seal blocks but never change or remove one, and it owns nothing, so it
-- cannot disable a trigger. Migrations run as the owner of the tables.
--
-- Roles belong to the whole cluster while migrations run per database, possibly many at once
-- (tests): a concurrent CREATE ROLE of the same name fails with unique_violation once the
-- other commits, and is then nothing to do.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'loyalty_service') THEN
        BEGIN
            CREATE ROLE loyalty_service NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END $$;

-- Read models, routing, admin and bot tables: the service writes them all.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO loyalty_service;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO loyalty_service;
-- Tables later migrations (and rebuilds, run as the owner) create get the same.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO loyalty_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO loyalty_service;

-- The log and its seal: append and read only.
REVOKE ALL ON events, log_seal FROM loyalty_service;
GRANT SELECT, INSERT ON events, log_seal TO loyalty_service;
-- Which migrations ran: readable (serve checks nothing is pending), never written.
REVOKE ALL ON _sqlx_migrations FROM loyalty_service;
GRANT SELECT ON _sqlx_migrations TO loyalty_service;
