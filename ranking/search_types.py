"""What a search asks the matching engine (`SearchRequest`) and what it answers (`SearchResponse` of
`SearchHit`s, or `SearchError`): the engine's contract with the HTTP API and the assistant's tools, kept apart
from how the engine ranks (`ranking.engine`, which re-exports these names).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from market.core.money import Money
from ranking.filters import SearchFilters


class SearchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    filters: SearchFilters = msgspec.field(default_factory=SearchFilters)
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    cursor: str | None = None
    session_id: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class SearchHit(msgspec.Struct, kw_only=True):
    product_id: int
    seller_id: str | None
    title: str
    brand: str
    category: str
    price: Money | None
    list_price: Money | None
    availability: str
    in_stock: bool
    score: float
    position: int


class SearchResponse(msgspec.Struct, kw_only=True):
    search_id: uuid.UUID
    query: str
    results: list[SearchHit]
    next_cursor: str | None
    model_versions: dict[str, str]
    # The retrievers that produced the candidates: ["dense", "lexical"], or ["lexical"] during a cold start.
    retrieval: list[str]
    timings_ms: dict[str, float]


class SearchError(ValueError):
    """A search request the engine cannot answer as asked (e.g. an expired cursor)."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where
