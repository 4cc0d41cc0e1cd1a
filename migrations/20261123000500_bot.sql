-- The Telegram bot's operational tables: its inbox, its polling offset, what it knows of each
-- private chat, the notification worker's place in the log with the notifications it settled,
-- and the last subscription check per member. None of them is a ledger fact: points still move
-- only through events, and every table here can be emptied without losing a point.

-- Private messages to the bot, stored (raw, as Telegram sent them) before the webhook answers
-- 200 or the polling offset moves past them; a worker replies and marks them handled.
CREATE TABLE bot_updates (
    update_id     bigint      PRIMARY KEY,
    body          bytea       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    -- A worker holds the row until then; a crashed worker's rows come back after it.
    claimed_until timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    handled_at    timestamptz,
    last_error    text
);
CREATE INDEX bot_updates_pending_idx ON bot_updates (update_id) WHERE handled_at IS NULL;
CREATE INDEX bot_updates_handled_idx ON bot_updates (handled_at) WHERE handled_at IS NOT NULL;

-- getUpdates: the next offset to ask for, per bot (the numeric id before the token's colon).
-- Moved only after the updates before it were recorded, so a restart neither skips nor repeats.
CREATE TABLE bot_polling (
    bot_id      text        PRIMARY KEY,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per Telegram user who wrote to the bot or opened the Mini App (user id = private chat
-- id): the language of replies and notifications, and since when the bot cannot write to them
-- (they blocked it, or never started it: 403).
CREATE TABLE bot_chats (
    user_id           bigint      PRIMARY KEY,
    language_code     text,
    started_at        timestamptz,
    unreachable_since timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The notification worker's checkpoint in the log's gap-safe order (tx_id, position): every
-- event at or before it was notified, failed for good, or needed no notification.
CREATE TABLE notification_checkpoint (
    name       text        PRIMARY KEY,
    tx_id      bigint      NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Notifications settled, by key (`entry:<entry id>`): a restarted worker re-reads events after
-- its checkpoint and skips these. `replied` = the bot already told the member in its reply.
CREATE TABLE notification_deliveries (
    key        text        PRIMARY KEY,
    chat_id    bigint      NOT NULL,
    outcome    text        NOT NULL CHECK (outcome IN ('delivered', 'failed', 'replied')),
    message_id bigint,
    error      text,
    settled_at timestamptz NOT NULL DEFAULT now()
);

-- The last on-demand subscription check per member, channel and account: what the Mini App is
-- answered while a member taps "check" faster than the platforms should be asked.
CREATE TABLE subscription_checks (
    program_id  uuid        NOT NULL,
    member_id   uuid        NOT NULL,
    network     text        NOT NULL,
    channel     text        NOT NULL,
    status      text        NOT NULL,
    bonus       text        NOT NULL,
    points      bigint,
    checked_at  timestamptz NOT NULL,
    PRIMARY KEY (program_id, member_id, network, channel)
);
