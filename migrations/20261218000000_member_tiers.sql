-- Each member's tier as their last TierChanged set it, folded by the balances projection. A
-- member below every threshold has no row. The index serves the panel's count per tier.
CREATE TABLE member_tiers (
    program_id uuid NOT NULL,
    member_id uuid NOT NULL,
    tier text NOT NULL,
    level integer NOT NULL,
    multiplier_percent integer NOT NULL,
    qualifying_points bigint NOT NULL,
    rule_version integer NOT NULL,
    since timestamptz NOT NULL,
    PRIMARY KEY (program_id, member_id)
);
CREATE INDEX member_tiers_level_idx ON member_tiers (program_id, level);

-- The tier keeper's place in the log and when it last swept rolling windows (one row; the
-- keeper runs in one process at a time, under an advisory lock).
CREATE TABLE tier_keeper (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    tx_id bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL DEFAULT 0,
    swept_at timestamptz
);
