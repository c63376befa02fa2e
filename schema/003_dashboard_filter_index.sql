-- Lantern store, schema version 3: the dashboard's Invocations filter on a status and a flush reason together.
-- With only (status, invoked_at) and (flush_reason, invoked_at), SQLite walks one of them and checks the other
-- column row by row: a pair that matches few rows read every row of the flush reason (900,000 of a million for
-- `agent`) to fill one screen, and that on every frame. This index reads only the matching rows, newest first.
CREATE INDEX invocations_status_flush_reason ON invocations (status, flush_reason, invoked_at);
