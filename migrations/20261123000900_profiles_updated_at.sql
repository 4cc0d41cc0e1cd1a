-- Each serving process's name directory (api::names) asks every few seconds which profiles of
-- a program changed since a watermark: answered from this index instead of a scan.
CREATE INDEX profiles_updated_idx ON profiles (program_id, updated_at);
