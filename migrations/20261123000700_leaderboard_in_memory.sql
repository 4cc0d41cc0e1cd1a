-- Ranks are computed in memory by each serving process (projections::live_boards), loaded from
-- `leaderboard` and kept current from the log; the score histogram that made a rank one range
-- sum in SQL has no reader left.
DROP TABLE leaderboard_histogram;
