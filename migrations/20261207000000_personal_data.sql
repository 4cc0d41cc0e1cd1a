-- Personal data out of the log (event schema version 2). Events and stream ids name an
-- external account by a random reference issued on first sight; this table is the only link
-- from a platform id to it, and erasing a member deletes the member's rows here (profiles go
-- with them). No production data existed before this version: the tables keyed by platform id
-- are recreated empty, and `serve` refuses a log that holds version 1 events.
CREATE TABLE external_accounts (
    account_ref  uuid        PRIMARY KEY,
    program_id   uuid        NOT NULL,
    network      text        NOT NULL,
    -- The Instagram brand account that saw the user; empty on VK and Telegram.
    scope        text        NOT NULL,
    platform_id  text        NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, network, scope, platform_id)
);
-- The admin panel finds a member by any network's account id.
CREATE INDEX external_accounts_platform_idx ON external_accounts (program_id, platform_id);

-- Usernames, names and language per account, written from webhooks, the bot and the Mini App.
DROP TABLE profiles;
CREATE TABLE profiles (
    account_ref   uuid        PRIMARY KEY REFERENCES external_accounts ON DELETE CASCADE,
    program_id    uuid        NOT NULL,
    username      text,
    display_name  text,
    language_code text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_username_trgm_idx ON profiles USING gin (lower(username) gin_trgm_ops);
CREATE INDEX profiles_updated_idx ON profiles (program_id, updated_at);

-- projection "identities": which member holds an account, by reference. Rebuilt from the log.
DROP TABLE identities;
CREATE TABLE identities (
    program_id  uuid        NOT NULL,
    network     text        NOT NULL,
    account_ref uuid        NOT NULL,
    member_id   uuid        NOT NULL,
    method      text        NOT NULL,
    linked_at   timestamptz NOT NULL,
    PRIMARY KEY (program_id, account_ref)
);
CREATE INDEX identities_member_idx ON identities (program_id, member_id);
DELETE FROM projection_checkpoints WHERE name = 'identities';

-- The sender of a stored bot message, so erasure finds the raw updates a member sent.
ALTER TABLE bot_updates ADD COLUMN user_id bigint;
CREATE INDEX bot_updates_user_idx ON bot_updates (user_id) WHERE user_id IS NOT NULL;
-- Erasure deletes a member's notification records by chat (a private chat's id is the user id).
CREATE INDEX notification_deliveries_chat_idx ON notification_deliveries (chat_id);
