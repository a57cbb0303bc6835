"""The reranker shipped with Agora, trained on the seed relevance set and outside relevance sets by
`ranking.offline.train_mix` (`ranking.offline.train_seed` trains one on the seed set alone)."""
