-- Carts, orders split per seller, stock reservations, the marketplace ledger and Stripe's webhook events.
-- Money is integer minor units of the row's currency, always.

-- A seller is paid through a Stripe Connect account of its own.
ALTER TABLE sellers ADD COLUMN stripe_account_id text UNIQUE;

-- The platform's cut, in basis points, where it differs from the default (AGORA_TAKE_RATE_BPS).
-- A seller's own rate wins over its category's; the longest matching category path wins among categories.
CREATE TABLE take_rates (
    scope text NOT NULL CHECK (scope IN ('seller', 'category')),
    key text NOT NULL,  -- a seller id, or a category path such as 'Electronics > Audio'
    bps integer NOT NULL CHECK (bps BETWEEN 0 AND 10000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- A cart is addressed by its unguessable id, which is all a shopper (or an agent) needs to hold.
CREATE TABLE carts (
    id uuid PRIMARY KEY,
    session_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cart_items (
    cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    search_id uuid,  -- the search the product was found through, for the feedback loop
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

-- One order per checkout, paid once, in one currency; prices are frozen here from the products table.
CREATE TABLE orders (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    cart_id uuid REFERENCES carts (id) ON DELETE SET NULL,
    session_id text,
    status text NOT NULL DEFAULT 'pending' CHECK (
        status IN ('pending', 'paid', 'fulfilled', 'canceled', 'refunded', 'partially_refunded')
    ),
    cancel_reason text,
    payment_flow text NOT NULL CHECK (payment_flow IN ('checkout_session', 'payment_intent')),
    currency char(3) NOT NULL,
    total_amount bigint NOT NULL CHECK (total_amount > 0),
    platform_fee_amount bigint NOT NULL CHECK (platform_fee_amount >= 0),
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    transfer_group text NOT NULL,
    checkout_session_id text UNIQUE,
    payment_intent_id text UNIQUE,
    charge_id text,
    reserved_until timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    paid_at timestamptz,
    fulfilled_at timestamptz,
    canceled_at timestamptz,
    CHECK (refunded_amount <= total_amount)
);
CREATE INDEX orders_pending_until ON orders (reserved_until) WHERE status = 'pending';

-- The part of an order that one seller fulfils and is paid for (one Stripe transfer).
CREATE TABLE seller_orders (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    order_id uuid NOT NULL REFERENCES orders (id),
    seller_id uuid NOT NULL REFERENCES sellers (id),
    status text NOT NULL DEFAULT 'pending' CHECK (
        status IN ('pending', 'paid', 'fulfilled', 'canceled', 'refunded', 'partially_refunded')
    ),
    amount bigint NOT NULL CHECK (amount > 0),  -- what the shopper pays for this seller's lines
    platform_fee_amount bigint NOT NULL CHECK (platform_fee_amount >= 0),
    transfer_id text UNIQUE,
    fulfilled_at timestamptz,
    UNIQUE (order_id, seller_id)
);
CREATE INDEX seller_orders_seller ON seller_orders (seller_id, order_id);

CREATE TABLE order_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    seller_order_id uuid NOT NULL REFERENCES seller_orders (id),
    product_id bigint NOT NULL REFERENCES products (id),
    title text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
    line_amount bigint NOT NULL CHECK (line_amount >= 0),
    take_rate_bps integer NOT NULL CHECK (take_rate_bps BETWEEN 0 AND 10000),
    platform_fee_amount bigint NOT NULL CHECK (platform_fee_amount >= 0),
    refunded_quantity integer NOT NULL DEFAULT 0 CHECK (refunded_quantity BETWEEN 0 AND quantity),
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount BETWEEN 0 AND line_amount),
    search_id uuid
);
CREATE INDEX order_lines_order ON order_lines (order_id);

-- Units held for a pending order. Available stock = inventory_quantity - active reservations not yet
-- expired; paying consumes the reservation (and lowers inventory_quantity), lapsing or canceling releases it.
CREATE TABLE stock_reservations (
    order_id uuid NOT NULL REFERENCES orders (id),
    product_id bigint NOT NULL REFERENCES products (id),
    quantity integer NOT NULL CHECK (quantity > 0),
    expires_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'consumed', 'released')),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX stock_reservations_active ON stock_reservations (product_id) WHERE state = 'active';

CREATE TABLE refunds (
    id uuid PRIMARY KEY DEFAULT uuidv7(),
    order_id uuid NOT NULL REFERENCES orders (id),
    amount bigint NOT NULL CHECK (amount > 0),
    platform_fee_amount bigint NOT NULL CHECK (platform_fee_amount >= 0),
    reason text NOT NULL,
    requested_by text NOT NULL,  -- 'operator' or 'seller:<id>'
    lines jsonb NOT NULL,  -- [{line_id, quantity, amount, platform_fee_amount}]
    stripe_refund_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every movement of money, append-only, positive amounts; the kind says which way it goes.
-- Per order: charge - refund = (platform_fee - platform_fee_refund) + (transfer - transfer_reversal).
CREATE TABLE ledger_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    seller_id uuid REFERENCES sellers (id),
    refund_id uuid REFERENCES refunds (id),
    kind text NOT NULL CHECK (
        kind IN ('charge', 'platform_fee', 'transfer', 'refund', 'platform_fee_refund', 'transfer_reversal')
    ),
    amount bigint NOT NULL CHECK (amount >= 0),
    currency char(3) NOT NULL,
    stripe_object_id text,  -- ch_, tr_, re_, trr_ ...
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);
-- A Stripe object is booked once per kind and seller, however often its webhook or retry arrives.
CREATE UNIQUE INDEX ledger_entries_once ON ledger_entries (kind, stripe_object_id, coalesce(seller_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE stripe_object_id IS NOT NULL;

-- Each Stripe event id is processed exactly once.
CREATE TABLE stripe_events (
    event_id text PRIMARY KEY,
    type text NOT NULL,
    created timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL
);
