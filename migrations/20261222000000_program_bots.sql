-- Many brands in one process: a program may have a Telegram bot of its own. Its token and
-- webhook secret are sealed as channel secrets are (`app::secrets`); the bot id (the digits
-- before the token's colon) is not secret and names the bot in webhook paths and the Mini App.
CREATE TABLE program_bots (
    program_id     uuid        PRIMARY KEY,
    bot_id         bigint      NOT NULL UNIQUE CHECK (bot_id > 0),
    username       text        NOT NULL,
    token          text        NOT NULL,
    webhook_secret text        NOT NULL,
    added_at       timestamptz NOT NULL DEFAULT now()
);

-- Bot-scoped operational rows carry the bot they belong to: update ids are counted per bot, a
-- member may block one brand's bot and not another's, and a group is offered to the program
-- whose bot administers it. 0 is the process's configured bot (whose token may change), so the
-- rows written before this stay its own; SQL finds a program's bot as
-- `coalesce((SELECT bot_id FROM program_bots WHERE program_id = …), 0)`.
ALTER TABLE bot_updates ADD COLUMN bot_id bigint NOT NULL DEFAULT 0;
ALTER TABLE bot_updates DROP CONSTRAINT bot_updates_pkey, ADD PRIMARY KEY (bot_id, update_id);
DROP INDEX bot_updates_pending_idx;
CREATE INDEX bot_updates_pending_idx ON bot_updates (bot_id, update_id) WHERE handled_at IS NULL;

ALTER TABLE bot_chats ADD COLUMN bot_id bigint NOT NULL DEFAULT 0;
ALTER TABLE bot_chats DROP CONSTRAINT bot_chats_pkey, ADD PRIMARY KEY (bot_id, user_id);
CREATE INDEX bot_chats_user_idx ON bot_chats (user_id);

ALTER TABLE bot_group_chats ADD COLUMN bot_id bigint NOT NULL DEFAULT 0;
