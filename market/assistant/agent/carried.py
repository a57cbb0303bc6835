"""Whether the catalog carries what a shopper asked for, decided by evidence before any product is shown.

Four kinds of evidence, in order:
1. a well-known brand named (`reading/data/outside_brands.txt`) that no seller of the catalog lists:
   "Nike running shoes" -> we don't carry Nike; running shoes of other brands are shown as alternatives;
2. the product word itself: the head of the request (its last word that is neither common English nor a
   colour or size) appears in no title or category of the catalog: "a snowboard" -> we don't carry
   snowboards, and nothing is shown;
3. after searching, when a word of the query is sold nowhere, its head is an `unheard_pair` ("dog
   food") or its head is in no title at all (`head_unsold`: "cat litter"), the best of the first results
   means something else: its cosine with the query is below `ranking.similarity.LOW_RELEVANCE_COSINE`
   (the threshold unmet demand uses, measured on the demo catalog) -> said so, and the results are
   labelled as the closest alternatives;
4. the titles found have the head only as part of another product's name (`named_only_within`: "mountain
   bike" finds mountain bike helmets) -> said so, the results labelled as alternatives.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

from market.assistant.reading.language import english_words, names_no_product
from market.assistant.reading.vocabulary import Vocabulary
from market.assistant.reading.words import generic_head, singular, title_head, together

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'&.-]*")
_CUT = re.compile(
    r"\b(?:for|with|under|below|over|above|from|by|in|that|which|to|as|like|but|and|or|made)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Missing:
    """What the catalog lacks: a brand or a kind of product; `rest` is what may still be searched."""

    kind: Literal["brand", "product"]
    what: str
    rest: str = ""


@functools.cache
def outside_brands() -> dict[str, str]:
    text = files("market.assistant.reading").joinpath("data/outside_brands.txt").read_text("utf-8")
    brands = (line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {brand.lower(): brand for brand in brands}


def missing_brand(text: str, vocabulary: Vocabulary) -> Missing | None:
    """A well-known brand named in `text` that the catalog does not list."""
    lowered = f" {' '.join(text.lower().split())} "
    listed = {brand.lower() for brand in vocabulary.brands}
    for key, brand in sorted(outside_brands().items(), key=lambda item: len(item[0]), reverse=True):
        if key in listed:
            continue
        found = re.search(rf"(?<![\w]){re.escape(key)}(?:'s)?(?![\w])", lowered)
        if found:
            rest = (lowered[: found.start()] + lowered[found.end() :]).strip()
            return Missing("brand", brand, " ".join(rest.split()))
    return None


def missing_product(
    words: str, vocabulary: Vocabulary, *, ignore: frozenset[str] = frozenset()
) -> Missing | None:
    """The kind of product `words` asks for, when no title or category of the catalog has its word.
    `ignore`: words already read as something else (colours, sizes, brands)."""
    if not vocabulary.words:
        return None
    head = _CUT.split(words, maxsplit=1)[0]  # "a snowboard for my son" -> "a snowboard"
    common = english_words()
    candidates = [
        token
        for token in (found.rstrip(".'-") for found in _TOKEN.findall(head))
        if any(c.isalpha() for c in token)
        and not token.lower().endswith("'s")  # "baby's due in May": whose, not what
        and token.lower() not in common
        and singular(token.lower()) not in common  # "my sisters bday": a sister is no product
        and token.lower() not in ignore
        and (vocabulary.sells(token) or not names_no_product(token))  # "took up a hobby": no product
        and not generic_head(token)  # "yoga equipment" asks for yoga things, whatever "equipment" finds
    ]
    if not candidates:
        return None
    # The head of a noun phrase is its last word: "grain free dog food" asks for food, which no title has,
    # whatever "dog" finds.
    if vocabulary.sells(candidates[-1]):
        return None
    # ... unless an earlier word is what titles are named by: "bike helmet asap", "a swaddle blanket maybe"
    # ask for a helmet and a blanket; the words after it are talk.
    if any(singular(token.lower()) in vocabulary.heads for token in candidates[:-1]):
        return None
    what = " ".join(candidates)
    return Missing("product", what if len(candidates) > 1 else _plural_of(candidates[0]))


def unheard_pair(words: str, vocabulary: Vocabulary) -> str | None:
    """The head of `words` with the category word before it, when no product's title and category put the
    two together ("dog food": beds for dogs and food containers are sold, never the two at once). Only a
    hint that the catalog may lack the thing ("desk chair" is unheard too, yet office chairs are one):
    the search's results decide, by meaning."""
    head = _CUT.split(words, maxsplit=1)[0]
    tokens = [token.lower() for token in _TOKEN.findall(head) if token.isalpha()]
    if len(tokens) < 2 or not vocabulary.pairs:
        return None
    first, second = tokens[-2], tokens[-1]
    named = singular(first) in vocabulary.path_words and vocabulary.names_a_kind(second)
    return f"{first} {second}" if named and together(first, second) not in vocabulary.pairs else None


def head_unsold(words: str, vocabulary: Vocabulary) -> bool:
    """Whether the thing `words` names (the last word before any qualifier) is in no title or category,
    though English may know it as something else: "big bag of cat litter" finds sleeping bags, which the
    results' meaning then tells apart. Everyday words ("something", "stuff") name nothing to look for."""
    tokens = [token.lower() for token in _TOKEN.findall(_CUT.split(words, maxsplit=1)[0]) if token.isalpha()]
    if not tokens or tokens[-1] in english_words():
        return False
    return not vocabulary.sells(tokens[-1]) and not vocabulary.sells(singular(tokens[-1]))


def named_only_within(
    words: str, titles: Sequence[str], vocabulary: Vocabulary, values: Collection[str] = ()
) -> bool:
    """Whether the titles found name the head of `words` only as part of another product: "mountain bike"
    finds "Mountain Bike Helmet"s, whose head is helmet; no title found is a bike, and no category is
    named by it. A title whose head is a set or pack ("Baby Bottle Set") proves nothing either way.
    Words of `values` (attribute values searched for) at the end are no head: "a pan, cast iron"."""
    head = _CUT.split(words, maxsplit=1)[0]
    tokens = [token.lower() for token in _TOKEN.findall(head) if token.isalpha()]
    while tokens and tokens[-1] in values:
        tokens.pop()
    if not tokens or singular(tokens[-1]) in vocabulary.path_words:
        return False
    asked = singular(tokens[-1])
    having = [
        title for title in titles if asked in {singular(w) for w in re.findall(r"[a-z]+", title.lower())}
    ]
    # "plush penguin" is a "Penguin Plush Toy": the kind said with the word is in the title too
    kinds = {singular(token) for token in tokens[:-1] if singular(token) in vocabulary.path_words}
    if kinds and any(kinds <= {singular(w) for w in re.findall(r"[a-z]+", title.lower())} for title in having):
        return False
    heads = [title_head(title) for title in having]
    return bool(having) and all(found is not None and found != asked for found in heads)


def _plural_of(word: str) -> str:
    lowered = word.lower()
    if singular(lowered) != lowered or not lowered.isalpha():
        return word
    return word + ("es" if lowered.endswith(("s", "x", "ch", "sh")) else "s")
