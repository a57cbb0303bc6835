"""Carts, orders split per seller, checkout, the order lifecycle, refunds and Stripe's webhook."""
