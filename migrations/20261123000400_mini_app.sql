-- Operational state of the Mini App: short-lived and never a ledger fact (linking itself is an
-- event). Nothing here is a read model, so nothing here is rebuilt from the log.

-- A VK ID authorization in flight: the PKCE verifier waits here, keyed by the OAuth `state`,
-- between sending the member to VK ID and VK redirecting back. Each row is used once.
CREATE TABLE vk_id_pending (
    state          text        PRIMARY KEY,
    program_id     uuid        NOT NULL,
    member_id      uuid        NOT NULL,
    code_verifier  text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX vk_id_pending_expires_idx ON vk_id_pending (expires_at);

-- A member may cancel a link code before using it; a cancelled code also has its expiry moved
-- to the moment of cancelling, so the ingest path (which checks only expiry and use) refuses it.
ALTER TABLE link_codes ADD COLUMN cancelled_at timestamptz;
