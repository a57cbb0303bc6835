"""Sellers: accounts, API keys, catalog ingestion and the catalog change feed."""
