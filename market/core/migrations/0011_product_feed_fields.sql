-- The product feed's newer fields. A product sharing `group_id` with others of its seller is one of the
-- variants (sizes, colours) of one product. The shipping price is in the product's own currency; NULL
-- (an empty target_countries) means the seller did not say for this product, and its account's policy
-- stands.
ALTER TABLE products
    ADD COLUMN group_id text,
    ADD COLUMN listing_has_variations boolean NOT NULL DEFAULT false,
    ADD COLUMN condition text CHECK (condition IN ('new', 'refurbished', 'used')),
    ADD COLUMN store_country char(2),
    ADD COLUMN target_countries jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN shipping_price_amount bigint CHECK (shipping_price_amount >= 0),
    ADD COLUMN return_deadline_in_days integer CHECK (return_deadline_in_days BETWEEN 0 AND 365),
    ADD COLUMN accepts_returns boolean;
-- The variants of one product are looked up together.
CREATE INDEX products_group ON products (seller_id, group_id) WHERE group_id IS NOT NULL;
