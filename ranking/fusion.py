"""Fusing the two retrievers' lists by their scores, weighted by what kind of query it is.

Reciprocal rank fusion gave every list the same say whatever its scores, so on a real catalog a dense list
of near-equal, middling similarities pushed exact word matches out of the top 10. Here each list's scores
are scaled to 0..1 within the list (BM25 by its best score, cosine between the list's lowest and highest),
and the fused score is their weighted sum; a product missing from one list gets 0 from it. The weight of
the words depends on the query:

* `identifier`: a model number, SKU or GTIN (`tr-1200x`, `wd40`, `0885909950805`): words decide;
* `brand`: only brand names (`oakley`, `hello kitty`): words mostly decide;
* `descriptive`: anything else; the share of the query's words that the catalog holds at all moves the
  weight towards the vectors when words are missing (misspellings, words no title uses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

_IDENTIFIER = re.compile(r"^(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*$|^\d{6,}$")


class QueryKind(StrEnum):
    IDENTIFIER = "identifier"
    BRAND = "brand"
    DESCRIPTIVE = "descriptive"


# The words' weight per kind (the vectors get the rest); measured on the development sets, see
# docs/benchmarks.md "Fusion".
LEXICAL_WEIGHT = {QueryKind.IDENTIFIER: 0.85, QueryKind.BRAND: 0.7, QueryKind.DESCRIPTIVE: 0.55}
# How far a descriptive query's weight falls when none of its words is in the catalog.
MISSING_WORDS_PULL = 0.2

KIND_CODE = {QueryKind.DESCRIPTIVE: 0.0, QueryKind.BRAND: 1.0, QueryKind.IDENTIFIER: 2.0}


@dataclass(frozen=True, slots=True)
class QueryProfile:
    kind: QueryKind
    known_share: float  # share of the query's words found in the catalog's word index (1.0 without words)


def looks_like_identifier(token: str) -> bool:
    """Letters and digits mixed (`tr-1200x`, `r13`, `xr500`) or a long number (a GTIN), one token."""
    return bool(_IDENTIFIER.match(token.lower()))


def classify(raw_tokens: list[str], known_share: float, brand_only: bool) -> QueryProfile:
    if any(looks_like_identifier(token) and len(token) >= 4 for token in raw_tokens):
        return QueryProfile(QueryKind.IDENTIFIER, known_share)
    if brand_only:
        return QueryProfile(QueryKind.BRAND, known_share)
    return QueryProfile(QueryKind.DESCRIPTIVE, known_share)


def lexical_weight(profile: QueryProfile) -> float:
    weight = LEXICAL_WEIGHT[profile.kind]
    if profile.kind is QueryKind.DESCRIPTIVE:
        weight -= MISSING_WORDS_PULL * (1.0 - profile.known_share)
    return weight


def scaled_lexical(scores: np.ndarray) -> np.ndarray:
    """BM25 scores over the list's best: 1.0 for the top hit."""
    if not len(scores):
        return scores
    top = float(scores.max())
    return scores / top if top > 0 else np.zeros_like(scores)


def scaled_dense(scores: np.ndarray) -> np.ndarray:
    """Cosines between the list's lowest (0) and highest (1); all equal: 1.0 each."""
    if not len(scores):
        return scores
    low, high = float(scores.min()), float(scores.max())
    return (scores - low) / (high - low) if high > low else np.ones_like(scores)
