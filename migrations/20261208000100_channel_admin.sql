-- Channels are connected by a program's administrators (panel, API, CLI) instead of by SQL, and
-- each shows whether deliveries arrive.

-- When a delivery for the channel last arrived and was routed to its program; written at most
-- every 30 seconds per channel and process, so the hot path pays nothing for it.
ALTER TABLE channels ADD COLUMN last_delivery_at timestamptz;

-- Who connected, changed or disconnected which channel, and when. Secrets never appear here;
-- `detail` says only that one was set or changed.
CREATE TABLE channel_changes (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('connected', 'changed', 'disconnected')),
    network     text        NOT NULL,
    destination text        NOT NULL,
    program_id  uuid        NOT NULL,
    detail      text        NOT NULL DEFAULT ''
);
CREATE INDEX channel_changes_program_idx ON channel_changes (program_id, at DESC, id DESC);

-- Telegram groups and channels the bot was added to, and its role there now (from
-- `my_chat_member`): the panel offers the ones where it is an administrator for connecting, and
-- shows a connected chat where it lost its rights.
CREATE TABLE bot_group_chats (
    chat_id    text        PRIMARY KEY,
    -- group, supergroup or channel; NULL when only a check has seen the chat.
    chat_type  text,
    title      text,
    role       text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
