-- The event log read in time order: exported page by page on (occurred_at, event_id), read by type over a
-- time range for training sets, and by session for attributing interactions that carry no search.
DROP INDEX events_time;
CREATE INDEX events_time ON events (occurred_at, event_id);
CREATE INDEX events_type_time ON events (type, occurred_at);
CREATE INDEX events_session_time ON events (session_id, occurred_at) WHERE session_id IS NOT NULL;
