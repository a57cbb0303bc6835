"""Typos in a shopper's words, read as the catalog's nearest word: "kettlebels" -> "kettlebell", "runnign"
-> "running". Only a word that is no English word (`wordfreq`: rarer than about once in 30 million words)
and not the catalog's own is changed, and only to a catalog word at most one edit away (two for long words),
so names and plain words ("weather", "places") pass untouched."""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from wordfreq import zipf_frequency

from market.assistant.reading.language import english_words
from market.assistant.reading.vocabulary import Vocabulary

_WORD = re.compile(r"(?<![\w'-])[a-z][a-z'-]{2,}(?![\w'-])", re.IGNORECASE)
_SHORTEST = 5  # shorter words have too many neighbours one edit away ("mat", "hat", "cat")
_DRAWN_OUT = re.compile(r"([a-z])\1{2,}")  # a letter said three times or more
_KNOWN_ZIPF = 1.5  # a word at least this frequent in English text is a word, not a typo


def corrected(text: str, vocabulary: Vocabulary) -> str:
    common = english_words()
    brands = vocabulary.brand_words

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.lower()
        # "heyyy", "soooo", "thankssss"; not an acronym ("AAAs")
        drawn_out = _DRAWN_OUT.sub(r"\1", lowered) if sum(c.isupper() for c in word) < 2 else lowered
        if (
            drawn_out != lowered
            and len(drawn_out) > 1
            and (drawn_out in common or zipf_frequency(drawn_out, "en") >= _KNOWN_ZIPF)
        ):
            return drawn_out
        if len(lowered) < _SHORTEST or lowered in common or lowered in brands or vocabulary.sells(lowered):
            return word
        if zipf_frequency(lowered, "en") >= _KNOWN_ZIPF:
            return word
        limit = 1 if len(lowered) < 8 else 2
        found = process.extract(
            lowered,
            vocabulary.spelling_words,
            scorer=DamerauLevenshtein.distance,
            score_cutoff=limit,
            limit=8,
        )
        if not found:
            return word
        nearest = min(distance for _, distance, _ in found)
        # "blendr": blender (a kind of product) rather than blend (a fabric's)
        candidates = [candidate for candidate, distance, _ in found if distance == nearest]
        return max(candidates, key=lambda candidate: (vocabulary.names_a_kind(candidate), len(candidate)))

    return _WORD.sub(fix, text)
