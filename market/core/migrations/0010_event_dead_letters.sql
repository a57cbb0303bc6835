-- Events the log could not store (a value PostgreSQL refuses, such as a NUL character in a session id or
-- a query), kept with the reason instead of holding up the events written after them. Owned by feedback.
-- `event` is the event as JSON text: jsonb would refuse what the events table refused.
CREATE TABLE event_dead_letters (
    event_id uuid PRIMARY KEY,
    type text NOT NULL,
    reason text NOT NULL,
    event text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
