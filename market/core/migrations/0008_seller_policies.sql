-- What a seller says of shipping and returns, so that shoppers (and the assistant) are told what it said.
-- NULL, or an empty ships_to, means the seller has not said; a shipping price of 0 is free shipping and a
-- return window of 0 days is no returns. Money is integer minor units with its currency, both or neither.
ALTER TABLE sellers
    ADD COLUMN ships_to char(2)[] NOT NULL DEFAULT '{}',
    ADD COLUMN shipping_price_amount bigint CHECK (shipping_price_amount >= 0),
    ADD COLUMN shipping_price_currency char(3),
    ADD COLUMN free_shipping_over_amount bigint CHECK (free_shipping_over_amount >= 0),
    ADD COLUMN free_shipping_over_currency char(3),
    ADD COLUMN return_window_days integer CHECK (return_window_days BETWEEN 0 AND 365),
    ADD CHECK ((shipping_price_amount IS NULL) = (shipping_price_currency IS NULL)),
    ADD CHECK ((free_shipping_over_amount IS NULL) = (free_shipping_over_currency IS NULL));
