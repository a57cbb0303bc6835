"""The open agentic-commerce protocols, each a thin adapter over the market's own services: outside agents
search the catalog and buy through the same code paths as Agora's shoppers."""
