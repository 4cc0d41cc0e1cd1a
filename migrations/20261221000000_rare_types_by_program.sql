-- A program's campaigns and raffles are read by type AND program. With the program second in
-- the partial index of rare types, that lookup is exact whatever the statistics say: before, a
-- program the statistics had not seen yet (a brand onboarded since the last ANALYZE) was
-- estimated at one row, and the planner walked `events_program_recorded_idx` over all of that
-- program's events instead (50 ms a lookup at 100,000 of them, against 0.06 ms).
DROP INDEX events_rare_type_idx;
CREATE INDEX events_rare_type_idx ON events (event_type, program_id, position)
    WHERE event_type IN ('ProgramCreated', 'CampaignCreated', 'RaffleOpened');
