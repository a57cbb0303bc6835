-- The shopping assistant's conversations and their turns. A conversation has its own cart (made on the
-- first add) and is the session its searches and events are logged under.

CREATE TABLE conversations (
    id uuid PRIMARY KEY,
    session_id text,  -- the shopper's own session, when the client gave one
    cart_id uuid REFERENCES carts (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per message answered: what the shopper said, what the assistant understood and did (the tools it
-- called, with the results the model saw), what it answered and which products it showed, in order.
CREATE TABLE conversation_turns (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn integer NOT NULL CHECK (turn >= 1),
    user_text text NOT NULL,
    reply_text text NOT NULL,
    intent jsonb NOT NULL DEFAULT '{}',  -- {action, confidence, slots}
    tool_calls jsonb NOT NULL DEFAULT '[]',  -- [{name, arguments, ok, source, result}]
    products_shown jsonb NOT NULL DEFAULT '[]',  -- [{product_id, position, search_id?}]
    model text NOT NULL,
    latency_ms double precision NOT NULL CHECK (latency_ms >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, turn)
);
