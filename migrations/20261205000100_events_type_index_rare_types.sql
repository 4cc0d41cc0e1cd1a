-- Every append paid for an entry in (event_type, position), yet only two rare types are looked
-- up by type: ProgramCreated (time zones, the program list) and CampaignCreated (a program's
-- campaigns). Indexing those alone makes an insert ~16% cheaper (psql, 38,400 events: 39.4 to
-- 33 µs an event). An export filtered by a common type reads the log in order, as an export
-- of everything does.
DROP INDEX events_type_idx;
CREATE INDEX events_rare_type_idx ON events (event_type, position)
    WHERE event_type IN ('ProgramCreated', 'CampaignCreated');
