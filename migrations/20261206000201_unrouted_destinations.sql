-- Destinations deliveries came for that no program received (no channel for the Instagram
-- account, VK group or Telegram chat; or a VK group's secret key did not match), so a manager
-- can connect them. Routing diagnostics, not ledger facts: nothing of the deliveries is kept.
CREATE TABLE unrouted_destinations (
    network      text        NOT NULL,
    destination  text        NOT NULL,
    reason       text        NOT NULL,
    deliveries   bigint      NOT NULL DEFAULT 1,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (network, destination, reason)
);
