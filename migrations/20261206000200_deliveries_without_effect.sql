-- Platform deliveries (a like, a vote, a join, a removal) that were handled and recorded
-- nothing, by the command id derived from the delivery. A delivery that recorded something is
-- recognised by its events' ids; these leave no event, and must still change nothing when the
-- platform delivers them again later.
CREATE TABLE deliveries_without_effect (
    command_id   uuid        PRIMARY KEY,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
