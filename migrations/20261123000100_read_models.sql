-- Read models: derived from events only (crates/projections), so any of them can be dropped
-- and rebuilt from the log. Every key starts with the program. Each projection owns its tables
-- and one row of projection_checkpoints; a rebuild builds `<table>_rebuild` beside the live
-- table and swaps it in, so no table here may use a serial column or a foreign key.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Where each projection stands in the log's gap-safe order (tx_id, position).
CREATE TABLE projection_checkpoints (
    name        text PRIMARY KEY,
    tx_id       bigint      NOT NULL DEFAULT 0,
    position    bigint      NOT NULL DEFAULT 0,
    -- Events applied since the table set was last built from position 0.
    events      bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- projection "balances"
CREATE TABLE balances (
    program_id    uuid        NOT NULL,
    member_id     uuid        NOT NULL,
    current       bigint      NOT NULL DEFAULT 0,
    earned        bigint      NOT NULL DEFAULT 0,
    spent         bigint      NOT NULL DEFAULT 0,
    blocked       boolean     NOT NULL DEFAULT false,
    registered_at timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (program_id, member_id)
);

-- projection "leaderboards": one row per member per board (`all`, `w2026-47`, `m2026-11`,
-- each also per network as `all:vk`), plus how many members hold each score, so a rank is
-- 1 + the members above (competition ranking) without counting index entries.
CREATE TABLE leaderboard (
    program_id uuid   NOT NULL,
    board_key  text   COLLATE "C" NOT NULL,
    member_id  uuid   NOT NULL,
    score      bigint NOT NULL,
    PRIMARY KEY (program_id, board_key, member_id)
);
CREATE INDEX leaderboard_rank_idx ON leaderboard (program_id, board_key, score DESC, member_id);

CREATE TABLE leaderboard_histogram (
    program_id uuid   NOT NULL,
    board_key  text   COLLATE "C" NOT NULL,
    score      bigint NOT NULL,
    members    bigint NOT NULL,
    PRIMARY KEY (program_id, board_key, score) INCLUDE (members)
);
-- Emptied scores are deleted after each batch; this keeps finding them cheap.
CREATE INDEX leaderboard_histogram_empty_idx ON leaderboard_histogram (program_id, board_key)
    WHERE members = 0;

-- projection "campaigns"
CREATE TABLE campaigns (
    program_id  uuid        NOT NULL,
    campaign_id uuid        NOT NULL,
    name        text        NOT NULL,
    codeword    text        NOT NULL,
    points      bigint      NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    total_cap   integer,
    networks    text[]      NOT NULL,
    status      text        NOT NULL,
    redemptions integer     NOT NULL DEFAULT 0,
    created_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (program_id, campaign_id)
);

CREATE TABLE codeword_redemptions (
    program_id  uuid        NOT NULL,
    campaign_id uuid        NOT NULL,
    member_id   uuid        NOT NULL,
    network     text        NOT NULL,
    reference   text        NOT NULL,
    points      bigint      NOT NULL,
    redeemed_at timestamptz NOT NULL,
    position    bigint      NOT NULL,
    PRIMARY KEY (program_id, campaign_id, member_id)
);
CREATE INDEX codeword_redemptions_order_idx ON codeword_redemptions (program_id, campaign_id, position);

-- projection "identities": which member holds an external account.
CREATE TABLE identities (
    program_id  uuid        NOT NULL,
    network     text        NOT NULL,
    scope       text        NOT NULL,
    external_id text        NOT NULL,
    member_id   uuid        NOT NULL,
    method      text        NOT NULL,
    linked_at   timestamptz NOT NULL,
    PRIMARY KEY (program_id, network, scope, external_id)
);
CREATE INDEX identities_member_idx ON identities (program_id, member_id);

-- Not a projection: personal data the API upserts from webhooks, never in events, so a member
-- can be erased by deleting rows here. Searched joined with `identities`.
CREATE TABLE profiles (
    program_id   uuid        NOT NULL,
    network      text        NOT NULL,
    scope        text        NOT NULL,
    external_id  text        NOT NULL,
    username     text,
    display_name text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, network, scope, external_id)
);
CREATE INDEX profiles_username_trgm_idx ON profiles USING gin (lower(username) gin_trgm_ops);

-- projection "rewards"
CREATE TABLE rewards (
    program_id uuid        NOT NULL,
    reward_id  uuid        NOT NULL,
    title      text        NOT NULL,
    cost       bigint      NOT NULL,
    stock      bigint      NOT NULL,
    issued     bigint      NOT NULL DEFAULT 0,
    returned   bigint      NOT NULL DEFAULT 0,
    delisted   boolean     NOT NULL DEFAULT false,
    listed_by  text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (program_id, reward_id)
);

CREATE TABLE reward_redemptions (
    program_id    uuid        NOT NULL,
    redemption_id uuid        NOT NULL,
    reward_id     uuid        NOT NULL,
    member_id     uuid        NOT NULL,
    cost          bigint      NOT NULL,
    coupon_code   text        NOT NULL,
    redeemed_at   timestamptz NOT NULL,
    cancelled_at  timestamptz,
    refund        bigint,
    cancelled_by  text,
    cancel_reason text,
    PRIMARY KEY (program_id, redemption_id)
);
CREATE INDEX reward_redemptions_member_idx ON reward_redemptions (program_id, member_id, redeemed_at);

-- projection "admin_log": manual balance changes, and every manager action for the audit log.
CREATE TABLE adjustments (
    program_id  uuid        NOT NULL,
    position    bigint      NOT NULL,
    entry_id    uuid        NOT NULL,
    member_id   uuid        NOT NULL,
    delta       bigint      NOT NULL,
    reason      text        NOT NULL,
    manager     text        NOT NULL,
    compensates uuid,
    at          timestamptz NOT NULL,
    PRIMARY KEY (program_id, position)
);
CREATE INDEX adjustments_member_idx ON adjustments (program_id, member_id, position);

CREATE TABLE manager_actions (
    program_id uuid        NOT NULL,
    position   bigint      NOT NULL,
    action     text        NOT NULL,
    manager    text        NOT NULL,
    -- The stream the action changed (member-…, campaign-…, reward-…, program-…).
    subject    text        NOT NULL,
    at         timestamptz NOT NULL,
    details    jsonb       NOT NULL,
    PRIMARY KEY (program_id, position)
);
CREATE INDEX manager_actions_manager_idx ON manager_actions (program_id, manager, position);

-- projection "daily_stats": per program, local day and network ('all' for every network).
CREATE TABLE daily_stats (
    program_id      uuid   NOT NULL,
    day             date   NOT NULL,
    network         text   NOT NULL,
    events          bigint NOT NULL DEFAULT 0,
    points_awarded  bigint NOT NULL DEFAULT 0,
    points_reversed bigint NOT NULL DEFAULT 0,
    active_members  bigint NOT NULL DEFAULT 0,
    new_members     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (program_id, day, network)
);

-- Who was active on recent days (a bitmask of networks), to count each member once a day.
-- Only the last few days are kept (see projections::daily_stats::ACTIVE_WINDOW_DAYS).
CREATE TABLE daily_active (
    program_id uuid     NOT NULL,
    day        date     NOT NULL,
    member_id  uuid     NOT NULL,
    networks   smallint NOT NULL,
    PRIMARY KEY (program_id, day, member_id)
);
