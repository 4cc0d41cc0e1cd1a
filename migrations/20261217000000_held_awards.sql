-- Awards held for review, folded by the admin_log projection: one row per held award, its
-- decision filled in when a manager makes it (or the platform undoes the activity: then
-- decided_by is NULL and decision_reason names what undid it). The partial index serves the
-- panel's queue of pending awards; the other, a member's card.
CREATE TABLE held_awards (
    program_id uuid NOT NULL,
    entry_id uuid NOT NULL,
    member_id uuid NOT NULL,
    network text NOT NULL,
    kind text NOT NULL,
    points bigint NOT NULL,
    hold text NOT NULL,
    campaign_id uuid,
    occurred_at timestamptz NOT NULL,
    held_at timestamptz NOT NULL,
    position bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by text,
    decision_reason text,
    decided_at timestamptz,
    PRIMARY KEY (program_id, entry_id)
);
CREATE INDEX held_awards_pending_idx ON held_awards (program_id, position) WHERE status = 'pending';
CREATE INDEX held_awards_member_idx ON held_awards (program_id, member_id, position);

-- A VK deletion names no author: the award is found by its reference (as for PointsAwarded in
-- events_award_reference_idx), held or paid.
CREATE INDEX events_held_reference_idx ON events ((payload #>> '{activity,reference}'))
    WHERE event_type = 'AwardHeld';
