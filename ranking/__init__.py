"""Matching: embeddings, the vector and lexical indexes, features and the reranker."""
