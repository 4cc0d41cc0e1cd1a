-- A manager's file of adjustments (issue: bulk adjustments). The points are events in the log,
-- each row's command id derived from the file's SHA-256 and its line, so applying the same file
-- again records nothing twice. These tables are the operation's progress and the entries it
-- made (for reversing it as a whole); the file itself is not kept (it may name people).
CREATE TABLE bulk_adjustments (
    id             uuid        PRIMARY KEY,
    program_id     uuid        NOT NULL,
    file_sha256    text        NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    file_name      text        NOT NULL DEFAULT '',
    rows_total     integer     NOT NULL CHECK (rows_total > 0),
    points_added   bigint      NOT NULL DEFAULT 0,
    points_removed bigint      NOT NULL DEFAULT 0,
    status         text        NOT NULL CHECK (status IN ('applying', 'applied', 'reversing', 'reversed')),
    applied        integer     NOT NULL DEFAULT 0,
    -- Rows the ledger refused while applying (a balance spent meanwhile): line and why.
    refused        jsonb       NOT NULL DEFAULT '[]',
    reversed       integer     NOT NULL DEFAULT 0,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    reversed_by    text,
    reverse_reason text,
    reversed_at    timestamptz,
    -- Written by the process applying or reversing it; an old one means that process died and
    -- the same request may take over.
    heartbeat_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, file_sha256)
);
CREATE INDEX bulk_adjustments_program_idx ON bulk_adjustments (program_id, created_at DESC);

-- The entry each applied row made, so the file can be reversed as a whole.
CREATE TABLE bulk_adjustment_entries (
    bulk_id   uuid    NOT NULL REFERENCES bulk_adjustments ON DELETE CASCADE,
    line      integer NOT NULL,
    member_id uuid    NOT NULL,
    entry_id  uuid    NOT NULL,
    PRIMARY KEY (bulk_id, line)
);
