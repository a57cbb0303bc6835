"""Shoppers' words for what the catalog calls otherwise ("moisturiser", "trainers", "rucksack"), replaced by
the catalog's before a message is read, and set phrases that name no product ("stand out"), removed
(`data/synonyms.json`)."""

from __future__ import annotations

import functools
import json
import re
from importlib.resources import files


@functools.cache
def _replacements() -> tuple[re.Pattern[str], dict[str, str]]:
    data = json.loads(files("market.assistant.reading").joinpath("data/synonyms.json").read_text("utf-8"))
    words = {
        word.lower(): replacement
        for word, replacement in data["words"].items()
        if word.lower() != replacement or " " in word  # ("jigsaw puzzle" kept as said, not "jigsaw puzzle puzzle")
    } | {idiom.lower(): " " for idiom in data.get("idioms", [])}
    alternatives = sorted((re.escape(word) for word in words), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE), words


_ISH = re.compile(r"\b([a-z]{3,})-(?:ish|y)\b", re.IGNORECASE)  # "vanilla-ish", "vanilla-y": vanilla


def normalized(text: str) -> str:
    pattern, words = _replacements()
    return _ISH.sub(r"\1", pattern.sub(lambda match: words[match.group(0).lower()], text))
