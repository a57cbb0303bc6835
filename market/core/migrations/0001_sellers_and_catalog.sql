-- Sellers, their API keys, their catalogs, and the change feed that the search index follows.

CREATE TABLE sellers (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    name text NOT NULL,
    email text NOT NULL,
    country char(2) NOT NULL,
    currency char(3) NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sellers_email_key ON sellers (lower(email));

-- Only a hash of each key is kept; the key itself is shown once, when it is issued.
CREATE TABLE seller_api_keys (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    seller_id uuid NOT NULL REFERENCES sellers (id),
    key_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX seller_api_keys_seller ON seller_api_keys (seller_id);

-- A product is addressed by its seller's own id (external_id); `id` is Agora's id for it.
-- Deleting is soft (deleted_at) so that past orders keep their product.
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_id uuid NOT NULL REFERENCES sellers (id),
    external_id text NOT NULL,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    brand text NOT NULL DEFAULT '',
    category text NOT NULL,
    currency char(3) NOT NULL,
    price_amount bigint NOT NULL CHECK (price_amount >= 0),
    list_price_amount bigint CHECK (list_price_amount >= 0),
    availability text NOT NULL CHECK (availability IN ('in_stock', 'out_of_stock', 'preorder')),
    inventory_quantity integer NOT NULL CHECK (inventory_quantity >= 0),
    attributes jsonb NOT NULL DEFAULT '{}',
    images jsonb NOT NULL DEFAULT '[]',
    url text,
    gtin text,
    enable_search boolean NOT NULL DEFAULT true,
    enable_checkout boolean NOT NULL DEFAULT true,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    UNIQUE (seller_id, external_id)
);
CREATE INDEX products_seller_page ON products (seller_id, id);
CREATE INDEX products_category ON products (category text_pattern_ops);
CREATE INDEX products_brand ON products (lower(brand));

-- The outbox of catalog changes, written in the same transaction as the change. Writers take an advisory
-- lock before appending, so sequence numbers become visible in increasing order: a reader that has seen
-- `seq` N never later finds a change below N.
CREATE TABLE catalog_changes (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id),
    seller_id uuid NOT NULL,
    op text NOT NULL CHECK (op IN ('upsert', 'delete')),
    changed_at timestamptz NOT NULL DEFAULT now()
);
