-- Lantern store, schema version 2: indexes for the filters of `lantern query` and the stats of
-- `lantern query stats` (cold starts, shutdown reasons, dropped flushes, lifecycle event kinds).
CREATE INDEX invocations_cold_start ON invocations (cold_start, invoked_at);
CREATE INDEX shutdowns_reason ON shutdowns (reason, received_at);
CREATE INDEX flushes_outcome ON flushes (outcome, started_at);
CREATE INDEX lifecycle_events_kind ON lifecycle_events (kind, at);
