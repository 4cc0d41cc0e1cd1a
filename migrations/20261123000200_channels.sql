-- Operational tables of the ingest path. They are configuration and short-lived codes, not
-- ledger facts: every point still moves only through events.

-- Which program a platform destination (Instagram brand account, VK group, Telegram chat)
-- belongs to, with the VK Callback API secret and confirmation string.
CREATE TABLE channels (
    network       text        NOT NULL,
    destination   text        NOT NULL,
    program_id    uuid        NOT NULL,
    secret        text,
    confirmation  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (network, destination)
);

-- One-time codes a member posts from an Instagram/VK account to prove it is theirs.
CREATE TABLE link_codes (
    code        text        PRIMARY KEY,
    program_id  uuid        NOT NULL,
    member_id   uuid        NOT NULL,
    network     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX link_codes_member_idx ON link_codes (member_id);

-- Who earned an activity, for platforms whose deletions name no author (VK wall_reply_delete).
CREATE INDEX events_award_reference_idx ON events ((payload #>> '{activity,reference}'))
    WHERE event_type = 'PointsAwarded';
