-- Broadcasts: a manager's message to an audience of the program's members in Telegram. Not
-- ledger events (nothing here moves points); these are operational records: who wrote what to
-- whom, sending progress, and each recipient's outcome.
CREATE TABLE broadcasts (
    broadcast_id uuid        PRIMARY KEY,
    program_id   uuid        NOT NULL,
    text         text        NOT NULL,
    -- A public https image sent with the text as its caption (sendPhoto).
    image_url    text,
    -- Label of the button that opens the Mini App; no button when NULL.
    button_label text,
    -- The audience filter as the manager chose it (`app::broadcasts::Audience`).
    audience     jsonb       NOT NULL,
    -- scheduled → sending → done, or stopped from either.
    status       text        NOT NULL CHECK (status IN ('scheduled', 'sending', 'done', 'stopped')),
    send_at      timestamptz NOT NULL,
    -- Recipients fixed when sending starts (NULL before).
    recipients   integer,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    stopped_by   text,
    -- Recipients by outcome, kept when retention deletes the recipients of an old broadcast.
    summary      jsonb
);
CREATE INDEX broadcasts_program_idx ON broadcasts (program_id, created_at DESC);
CREATE INDEX broadcasts_due_idx ON broadcasts (send_at) WHERE status IN ('scheduled', 'sending');

-- One row per recipient chat, written when sending starts: the key (broadcast, chat) is what
-- makes a second message to the same chat impossible, across restarts and processes.
-- `sending` is claimed just before the request; a process that dies there leaves it, and the
-- next sender marks it `unknown` instead of sending again.
CREATE TABLE broadcast_recipients (
    broadcast_id uuid        NOT NULL REFERENCES broadcasts ON DELETE CASCADE,
    chat_id      bigint      NOT NULL,
    member_id    uuid        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'unknown')),
    attempts     smallint    NOT NULL DEFAULT 0,
    message_id   bigint,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (broadcast_id, chat_id)
);
CREATE INDEX broadcast_recipients_pending_idx
    ON broadcast_recipients (broadcast_id, chat_id) WHERE status = 'pending';
-- The panel pages through one outcome's recipients by member.
CREATE INDEX broadcast_recipients_outcome_idx
    ON broadcast_recipients (broadcast_id, status, member_id);
-- Erasure deletes a member's rows by chat (a private chat's id is the user's id).
CREATE INDEX broadcast_recipients_chat_idx ON broadcast_recipients (chat_id);

-- Members who asked for no broadcasts (`/stop` in the bot, the switch in the Mini App).
CREATE TABLE broadcast_opt_outs (
    program_id uuid        NOT NULL,
    member_id  uuid        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, member_id)
);
