-- Polls the bot published for a program from the admin panel (`sendPoll`, never anonymous).
-- Telegram's `poll_answer` names the poll and the voter but no chat, so this table is how a
-- vote finds its program: routing configuration like `channels`, not a ledger fact. The points
-- a vote earns are events (`PointsAwarded`, activity `poll:<poll_id>:<user_id>`); emptying this
-- table loses no point, only the routing of later votes.
CREATE TABLE telegram_polls (
    -- UUIDv5 of (manager, Idempotency-Key): a double submit finds this row and sends nothing.
    request_id    uuid        PRIMARY KEY,
    program_id    uuid        NOT NULL,
    -- The chat the poll went to (a `channels` destination of the program).
    chat_id       text        NOT NULL,
    question      text        NOT NULL,
    options       jsonb       NOT NULL,
    -- `manager:<username>`, as on the manager's events.
    published_by  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- From sendPoll's answer; NULL while the call is in flight. A row whose call failed is
    -- deleted, so the same Idempotency-Key can try again.
    poll_id       text        UNIQUE,
    message_id    bigint,
    published_at  timestamptz
);
CREATE INDEX telegram_polls_program_idx ON telegram_polls (program_id, created_at DESC);
