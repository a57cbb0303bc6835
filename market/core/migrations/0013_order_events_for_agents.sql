-- How a seller shipped its part: the carrier and the tracking number it gave when it marked it shipped.
ALTER TABLE seller_orders
    ADD COLUMN carrier text,
    ADD COLUMN tracking_number text,
    ADD COLUMN tracking_url text;

-- The outbox of order events owed to the agents whose checkout sessions became orders: one row per change
-- of an order (created, paid, a part shipped, a refund, canceled), written in the transaction that made
-- the change, so none is lost; delivered (signed, retried with backoff) until the agent's webhook takes it.
CREATE TABLE agent_order_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    agent_id uuid NOT NULL REFERENCES agents (id),
    change text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('order_create', 'order_update')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, change)
);
CREATE INDEX agent_order_events_due ON agent_order_events (next_attempt_at) WHERE delivered_at IS NULL;
