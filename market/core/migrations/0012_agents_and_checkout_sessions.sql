-- Outside shopping agents (ChatGPT, Gemini, ...) buy through the checkout protocols. An agent is issued a
-- bearer token by the operator (stored as a SHA-256 hash, like sellers' keys) and may register a webhook
-- URL, whose deliveries are signed with the agent's own secret.
CREATE TABLE agents (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    token_prefix text NOT NULL,
    webhook_url text,
    webhook_secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- A checkout session: what an agent means to buy, for whom and how it ships, until it is paid or dropped.
-- Its items live in a cart of its own (carts, cart_items), so the cart checkout prices and orders them.
-- `shipping` holds the chosen fulfillment option per seller ({"<seller id>": "<option id>"}).
CREATE TABLE checkout_sessions (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    agent_id uuid NOT NULL REFERENCES agents (id),
    protocol text NOT NULL,
    cart_id uuid NOT NULL REFERENCES carts (id),
    currency char(3) NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'in_progress', 'completed', 'canceled')),
    buyer jsonb,
    fulfillment jsonb,
    shipping jsonb NOT NULL DEFAULT '{}',
    order_id uuid UNIQUE REFERENCES orders (id),
    payment jsonb,  -- what the last payment attempt left to do (3-D Secure), or why it failed
    cancel_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX checkout_sessions_agent ON checkout_sessions (agent_id, created_at);

-- What a seller charges to ship its part of an order; part of the order's total and of the seller's part.
ALTER TABLE seller_orders ADD COLUMN shipping_amount bigint NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0);

-- Answers to protocol POSTs by idempotency key, kept at least 24 hours. `status` NULL: still in flight.
-- Scoped to who asked (a hash of their credential) and the endpoint's path.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Why an agent's buyer did not buy (ACP's intent_trace.reason_code on cancel), one event per product.
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (
    type IN (
        'impression', 'click', 'add_to_cart', 'checkout_started', 'purchase', 'refund', 'intent',
        'checkout_abandoned'
    )
);
