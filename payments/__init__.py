"""Money: Stripe calls, webhooks and the marketplace ledger."""
