-- Points that expired unspent, per member, folded by the balances projection beside earned and
-- spent (current = earned - spent - expired).
ALTER TABLE balances ADD COLUMN expired bigint NOT NULL DEFAULT 0;

-- The expiry job's list of members who hold points that may expire: a row from a member's
-- first credit until nothing of theirs is left to expire. `oldest_lot_at` is never later than
-- the member's oldest unspent credit (a lower bound: spending moves the real one later);
-- `look_at` is when the job has something to decide for them next under their program's
-- rules (NULL while the program's points never expire).
CREATE TABLE expiry_queue (
    program_id uuid NOT NULL,
    member_id uuid NOT NULL,
    oldest_lot_at timestamptz NOT NULL,
    look_at timestamptz,
    PRIMARY KEY (program_id, member_id)
);
CREATE INDEX expiry_queue_look_idx ON expiry_queue (program_id, look_at) WHERE look_at IS NOT NULL;

-- The expiry job's place in the log (one row; one job at a time, under an advisory lock).
CREATE TABLE expiry_keeper (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    tx_id bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL DEFAULT 0
);
