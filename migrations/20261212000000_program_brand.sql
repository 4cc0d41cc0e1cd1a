-- How a program looks to its members: the name, colour, logo and community links the Mini App
-- shows. Presentation, not money: a mutable row (who changed it last and when), not events; the
-- logo's bytes would only bloat an append-only log.
CREATE TABLE program_brand (
    program_id        uuid        PRIMARY KEY,
    display_name      text,
    accent_color      text        CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    vk_url            text,
    telegram_url      text,
    instagram_url     text,
    logo              bytea       CHECK (octet_length(logo) <= 262144),
    logo_content_type text,
    -- Hex SHA-256 of the logo: its URL, so a new logo is a new URL and the old one can be
    -- cached for ever.
    logo_hash         text,
    updated_by        text        NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((logo IS NULL) = (logo_hash IS NULL) AND (logo IS NULL) = (logo_content_type IS NULL))
);
