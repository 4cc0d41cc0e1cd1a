-- Raffles: a program's raffles are found by their RaffleOpened events, so that rare type joins
-- the partial index of types looked up by type.
DROP INDEX events_rare_type_idx;
CREATE INDEX events_rare_type_idx ON events (event_type, position)
    WHERE event_type IN ('ProgramCreated', 'CampaignCreated', 'RaffleOpened');

-- The seed of each raffle, kept out of the log until its draw reveals it (the log carries only
-- its SHA-256 until then). Sealed like channel secrets (`app::secrets`), so a copy of the
-- database does not tell a draw in advance. Written once, when the raffle opens.
CREATE TABLE raffle_seeds (
    raffle_id  uuid        PRIMARY KEY,
    program_id uuid        NOT NULL,
    seed       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
