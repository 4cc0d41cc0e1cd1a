-- Leaderboard seasons, folded by the seasons projection. `terms` is the season's terms as
-- scheduled (the projection reads them back to count a batch); the frozen `standings` arrive
-- with SeasonEnded. `status`: scheduled, cancelled, ended (prizes being paid), settled.
CREATE TABLE seasons (
    season_id uuid PRIMARY KEY,
    program_id uuid NOT NULL,
    name text NOT NULL,
    terms jsonb NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    cutoff timestamptz NOT NULL,
    status text NOT NULL,
    scheduled_by text NOT NULL,
    scheduled_at timestamptz NOT NULL,
    closed_at timestamptz,
    cancel_reason text,
    standings jsonb,
    participants integer,
    prizes_paid integer,
    prizes_withheld integer
);
CREATE INDEX seasons_program_idx ON seasons (program_id, starts_at DESC);

-- Each member's score in each season. Frozen in effect once the cutoff passes: nothing
-- decided after it counts.
CREATE TABLE season_scores (
    season_id uuid NOT NULL,
    member_id uuid NOT NULL,
    score bigint NOT NULL,
    PRIMARY KEY (season_id, member_id)
);
CREATE INDEX season_scores_rank_idx ON season_scores (season_id, score DESC, member_id);

-- The entries a season counted, so a later reversal, restoration or compensation of one
-- counts against the same season (those events do not say what kind of activity they undo).
CREATE TABLE season_entries (
    season_id uuid NOT NULL,
    entry_id uuid NOT NULL,
    member_id uuid NOT NULL,
    points bigint NOT NULL,
    undone boolean NOT NULL,
    PRIMARY KEY (season_id, entry_id)
);
CREATE INDEX season_entries_entry_idx ON season_entries (entry_id);
