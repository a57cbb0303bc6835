"""The checkout protocols outside shopping agents speak (ACP; UCP), as thin adapters over one checkout core
(`market.orders.sessions`), with what they share: agent authentication and idempotent POSTs."""
