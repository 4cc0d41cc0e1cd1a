-- The dashboard counts a period's manual adjustments and reversals, codeword redemptions, and
-- coupons issued and cancelled. Each count reads one program's rows within the period by time,
-- not every row the program ever had.
CREATE INDEX adjustments_at_idx ON adjustments (program_id, at);
CREATE INDEX codeword_redemptions_at_idx ON codeword_redemptions (program_id, redeemed_at);
CREATE INDEX reward_redemptions_at_idx ON reward_redemptions (program_id, redeemed_at);
CREATE INDEX reward_redemptions_cancelled_idx ON reward_redemptions (program_id, cancelled_at)
    WHERE cancelled_at IS NOT NULL;
