-- A program's managers' chat: a Telegram group where the bot posts a morning digest and alerts
-- that need a person, and where managers answer some of them with inline buttons. Connected in
-- the admin panel or with /managers in the group; configuration, not ledger facts.
CREATE TABLE managers_chats (
    program_id        uuid        PRIMARY KEY,
    -- A Telegram group or supergroup id (negative); one program per chat.
    chat_id           bigint      NOT NULL UNIQUE CHECK (chat_id < 0),
    title             text,
    language          text        NOT NULL DEFAULT 'ru' CHECK (language IN ('ru', 'en')),
    -- Local time of the digest, in the program's time zone.
    digest_time       time        NOT NULL DEFAULT '09:00',
    -- Alert thresholds (docs/managers-chat.md).
    large_award_points bigint     NOT NULL DEFAULT 500 CHECK (large_award_points > 0),
    hourly_points     bigint      NOT NULL DEFAULT 1000 CHECK (hourly_points > 0),
    silent_hours      integer     NOT NULL DEFAULT 24 CHECK (silent_hours > 0),
    refused_per_hour  integer     NOT NULL DEFAULT 20 CHECK (refused_per_hour > 0),
    lag_minutes       integer     NOT NULL DEFAULT 5 CHECK (lag_minutes > 0),
    connected_at      timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text        NOT NULL
);

-- Who connected, changed or disconnected a managers' chat, and when. Rows are never changed.
CREATE TABLE managers_chat_changes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    -- `manager:<username>`, from the panel or from /managers in the group.
    actor      text        NOT NULL,
    program_id uuid        NOT NULL,
    action     text        NOT NULL CHECK (action IN ('connected', 'changed', 'disconnected')),
    chat_id    bigint      NOT NULL,
    detail     text        NOT NULL DEFAULT ''
);
CREATE INDEX managers_chat_changes_program_idx ON managers_chat_changes (program_id, at DESC, id DESC);

CREATE FUNCTION managers_chat_changes_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'managers_chat_changes is append-only';
END;
$$;
CREATE TRIGGER managers_chat_changes_append_only BEFORE UPDATE OR DELETE ON managers_chat_changes
    FOR EACH ROW EXECUTE FUNCTION managers_chat_changes_are_kept();

-- One digest per program and local day: the row is claimed before the digest is sent, so two
-- processes or a restart never send it twice (at most once; see docs/managers-chat.md).
CREATE TABLE managers_digests (
    program_id uuid        NOT NULL,
    day        date        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    chat_id    bigint      NOT NULL,
    message_id bigint,
    error      text,
    PRIMARY KEY (program_id, day)
);

-- Alerts sent to a managers' chat. A condition (`key`) holds an open row while it lasts and is
-- sent when the row is made; it is marked resolved when the condition ends, and a later
-- episode is a new row. One-off alerts from the log (a large award) are keyed by their entry.
CREATE TABLE managers_alerts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id  uuid        NOT NULL,
    key         text        NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    chat_id     bigint      NOT NULL,
    message_id  bigint,
    error       text
);
CREATE UNIQUE INDEX managers_alerts_open_idx ON managers_alerts (program_id, key)
    WHERE resolved_at IS NULL;
CREATE INDEX managers_alerts_opened_idx ON managers_alerts (program_id, opened_at);

-- An award a managers' chat may reverse from its "Reverse" button: the button carries the row's
-- id. Pressing it asks for a reason (a ForceReply prompt); the reply reverses through the same
-- command as the panel, once (its command id derives from this id).
CREATE TABLE managers_reversals (
    id                uuid        PRIMARY KEY,
    program_id        uuid        NOT NULL,
    member_id         uuid        NOT NULL,
    entry_id          uuid        NOT NULL,
    points            bigint      NOT NULL,
    chat_id           bigint      NOT NULL,
    message_id        bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    prompt_message_id bigint,
    reversed_at       timestamptz,
    reversed_by       text,
    UNIQUE (program_id, entry_id)
);
CREATE INDEX managers_reversals_prompt_idx ON managers_reversals (chat_id, prompt_message_id);
