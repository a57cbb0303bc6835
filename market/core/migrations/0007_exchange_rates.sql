-- The exchange-rate table the operator sets (PUT /v1/operator/exchange-rates), owned by payments: one unit of
-- `base` buys `rate` of `currency`, as of a date. It is replaced whole, so every row has the same base and
-- as_of; no rows means no table, and search then compares prices only within their own currency.
CREATE TABLE exchange_rates (
    currency text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    rate numeric NOT NULL CHECK (rate > 0 AND rate <> 'NaN'),
    base text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    as_of date NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
