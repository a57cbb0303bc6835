"""The reranker shipped with Agora, trained on the seed relevance set by `ranking.offline.train_seed`."""
