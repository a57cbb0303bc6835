-- Model versions of the matching engine, and the event log that the flywheel learns from.

-- Every trained model is kept with its metadata; at most one version of each kind serves at a time.
CREATE TABLE model_versions (
    version text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('reranker', 'embedding')),
    path text NOT NULL,
    status text NOT NULL CHECK (status IN ('candidate', 'serving', 'retired', 'refused')),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    promoted_at timestamptz
);
CREATE UNIQUE INDEX model_versions_one_serving ON model_versions (kind) WHERE status = 'serving';

-- Append-only. An impression carries the whole result list it showed (positions, scores, model versions)
-- in `payload`; an interaction names its product, the search it came from and the position it was at.
CREATE TABLE events (
    event_id uuid PRIMARY KEY,
    type text NOT NULL CHECK (
        type IN ('impression', 'click', 'add_to_cart', 'checkout_started', 'purchase', 'refund', 'intent')
    ),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    received_at timestamptz NOT NULL DEFAULT now(),
    session_id text,
    search_id uuid,
    product_id bigint,
    position integer,
    payload jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_time ON events (occurred_at);
CREATE INDEX events_search ON events (search_id) WHERE search_id IS NOT NULL;
CREATE INDEX events_product ON events (product_id, type) WHERE product_id IS NOT NULL;
