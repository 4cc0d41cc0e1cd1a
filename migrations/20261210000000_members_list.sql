-- The admin panel's members list pages through `balances` by keyset, sorted by balance,
-- lifetime points, last change or join date, newest or largest first. Each sort needs its own
-- index to answer a page without reading every member of the program (a million members: a
-- full scan and sort takes hundreds of milliseconds). These indexes cover columns every
-- balance change updates, so those updates are no longer HOT; BENCHMARKS.md ("Members list")
-- gives what that costs the projection and what the list gains.
CREATE INDEX balances_current_idx ON balances (program_id, current, member_id);
CREATE INDEX balances_earned_idx ON balances (program_id, earned, member_id);
CREATE INDEX balances_updated_idx ON balances (program_id, updated_at, member_id);
CREATE INDEX balances_registered_idx
    ON balances (program_id, (coalesce(registered_at, 'epoch')), member_id);
-- Blocked members are few: the filter finds them without walking a sort index.
CREATE INDEX balances_blocked_idx ON balances (program_id, member_id) WHERE blocked;
-- The list's search matches names as it matches usernames: by trigram, not by reading every
-- profile of the program.
CREATE INDEX profiles_display_name_trgm_idx ON profiles USING gin (lower(display_name) gin_trgm_ops);
