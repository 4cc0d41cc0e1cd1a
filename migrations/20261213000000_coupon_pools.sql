-- Coupon pools (codes the brand uploads) and coupons accepted by the shop or a manager.
-- Projection "rewards" fills the new columns; a rebuild refills them from the log.
ALTER TABLE rewards
    ADD COLUMN coupon_pool     boolean NOT NULL DEFAULT false,
    ADD COLUMN return_codes    boolean NOT NULL DEFAULT false,
    ADD COLUMN low_stock_alert integer,
    ADD COLUMN codes_uploaded  bigint  NOT NULL DEFAULT 0;

ALTER TABLE reward_redemptions
    ADD COLUMN used_at timestamptz,
    ADD COLUMN used_by text;

-- The shop names a coupon by its code alone.
CREATE INDEX reward_redemptions_code_idx ON reward_redemptions (program_id, coupon_code);

-- API keys a brand gives its till or e-shop to check and accept coupons. Operational settings,
-- not money: a mutable row; the key itself is shown once and kept only as its SHA-256 (a key
-- is 32 random bytes, so a fast hash is enough: there is no password to guess).
CREATE TABLE shop_api_keys (
    key_id       uuid        PRIMARY KEY,
    program_id   uuid        NOT NULL,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    scopes       text[]      NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_by   text,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX shop_api_keys_program_idx ON shop_api_keys (program_id, created_at);
