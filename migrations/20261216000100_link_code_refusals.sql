-- A link code consumed by a comment whose account could not be linked says why, so the Mini App
-- does not report a link that never happened: `taken` (another member owns the account) or
-- `cooldown` (another member gave it up recently; `linkable_from` is when that ends).
ALTER TABLE link_codes
    ADD COLUMN refusal text CHECK (refusal IN ('taken', 'cooldown')),
    ADD COLUMN linkable_from timestamptz,
    ADD CONSTRAINT link_codes_refusal_is_of_a_used_code CHECK (refusal IS NULL OR used_at IS NOT NULL);
