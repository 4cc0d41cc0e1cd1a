-- A changed score or balance can be a HOT update (a new row version on the same page, no index
-- entry written) only when no index covers the changed column and the page has room. Ranks are
-- computed in memory (projections::live_boards), which loads a whole board by (program, board):
-- no reader needs the score in an index, so the rank index gives way to one on the board alone.
-- Pages are left 15% free for the new versions of the rows on them.
DROP INDEX leaderboard_rank_idx;
CREATE INDEX leaderboard_board_idx ON leaderboard (program_id, board_key);
ALTER TABLE leaderboard SET (fillfactor = 85);
ALTER TABLE balances SET (fillfactor = 85);
