"""Which language a shopper writes in: a language read through a glossary is put into English
(`translation`); a message the assistant cannot read is answered honestly ("I only understand English", in
that language and in English) instead of with unrelated products.

Detection is `lingua-language-detector`, limited to the languages the assistant can answer in
(`data/languages.json`). A detector alone is unreliable on the short texts shoppers type ("thx", "ok add it",
"kettlebell 20 lb" all read as other languages), so a message counts as foreign only when the detector is
fairly sure of another language and few of its words are English or the catalog's own words.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from importlib.resources import files

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from market.assistant.reading import translation
from market.assistant.reading.words import singular

MIN_CONFIDENCE = 0.3  # of the other language, by the detector
MIN_MIXED_CONFIDENCE = 0.05  # of a language whose words an English message holds a few of
MAX_ENGLISH_SHARE = 0.34  # of the message's words known to be English or catalog words
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_NON_LATIN = re.compile(r"[^\x00-\u024f\s\d\W]")  # a letter outside the Latin scripts


@dataclass(frozen=True)
class Foreign:
    """A message in a language the assistant does not read: its ISO 639-1 code and the reply to give."""

    code: str
    reply: str


@functools.cache
def _data() -> dict:
    return json.loads(files("market.assistant.reading").joinpath("data/languages.json").read_text("utf-8"))


@functools.cache
def english_words() -> frozenset[str]:
    text = files("market.assistant.reading").joinpath("data/english.txt").read_text("utf-8")
    lines = (line for line in text.splitlines() if not line.startswith("#"))
    return frozenset(word.lower() for line in lines for word in line.split())


@functools.cache
def _nonproduct_words() -> frozenset[str]:
    text = files("market.assistant.reading").joinpath("data/nonproduct_words.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def names_no_product(word: str) -> bool:
    """Whether English knows `word` only as something one does not buy: a verb or adjective ("obsessed"),
    or a noun whose usual sense is an act, a place, a person, a time... ("hobby", "south"), by WordNet
    (`data/nonproduct_words.txt`). Such a word never makes "we don't carry that"; a word WordNet does not
    know ("hoverboard") still may."""
    lowered = word.lower()
    known = _nonproduct_words()
    if lowered in known or singular(lowered) in known:
        return True
    # "talked", "camping"'s kin: a verb's past or -ing form of a word known as no product ("talk")
    stems = [lowered[:-2], lowered[:-1]] if lowered.endswith("ed") else []
    stems += [lowered[:-3], lowered[:-3] + "e"] if lowered.endswith("ing") else []
    return any(len(stem) >= 3 and stem in known for stem in stems)


@functools.cache
def _detector() -> LanguageDetector:
    codes = {"en", *_data()["replies"]}
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in sorted(codes)]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def foreign(text: str, catalog_words: Collection[str] = ()) -> Foreign | None:
    """The language of `text` when it is one the assistant does not understand; None for English (or when
    unsure, which is treated as English)."""
    words = [word.lower() for word in _WORD.findall(text)]
    if not words:
        return None
    non_latin = bool(_NON_LATIN.search(text))
    known = english_words()
    # Words of one or two letters ("um", "de", "a") belong to too many languages to count.
    counted = [word for word in words if len(word) > 2] or words
    english = sum(1 for word in counted if word in known or word in catalog_words)
    if not non_latin and (len(words) < 2 or english / len(counted) > MAX_ENGLISH_SHARE):
        return None
    confidences = _detector().compute_language_confidence_values(text)
    best = confidences[0] if confidences else None
    if best is None or best.language == Language.ENGLISH:
        return None
    if best.value < MIN_CONFIDENCE and not non_latin:
        return None
    code = best.language.iso_code_639_1.name.lower()
    return Foreign(code=code, reply=unsupported_reply(code))


def _letters(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def unsupported_reply(code: str) -> str:
    """The shopper's language first (when the assistant knows how to say it), then English. In a language
    read through a glossary, what was not understood is the message, not the language."""
    data = _data()
    if code in translation.languages():
        return f"{translation.not_understood(code)}\n{data['english_partly']}"
    own = data["replies"].get(code)
    return f"{own}\n{data['english']}" if own else data["english"]


def in_english(
    text: str, catalog_words: Collection[str], previous: str | None = None
) -> translation.Translation | None:
    """`text` put into English when it is written in a language the assistant reads through a glossary.
    `previous` is the language the conversation's last message was read in: a short answer in it ("sí, la
    segunda") is too short for the detector, but not for the glossary."""
    found = foreign(text, catalog_words)
    translated = None
    if found is not None:
        translated = translation.to_english(text, found.code, english_words() | set(catalog_words))
    if previous is not None and (found is None or found.code != previous):
        # The glossary alone must know the words: "sorry, in English: a rain jacket" stays English. And
        # the detector's guess for two words ("la segunda") is weaker than the conversation's language.
        kept = translation.to_english(text, previous, set(catalog_words) if found is not None else ())
        if kept is not None and (translated is None or kept.known >= translated.known):
            translated = kept
    if translated is not None and _letters(translated.english) != _letters(text):
        return translated
    return None


def with_stray_words_in_english(text: str, catalog_words: Collection[str]) -> str:
    """An English message with the few words of another language it holds put into English ("loves building
    sets tipo lego" -> "loves building sets lego"); a message in another language is left to `foreign`."""
    if foreign(text, catalog_words) is not None:
        return text
    # Only the language the detector hears most after English: "a backpack for uni ... and a lunchbox" is
    # English, whatever glossaries list "uni" and "lunchbox" as loanwords.
    others = [
        found
        for found in _detector().compute_language_confidence_values(text)
        if found.language != Language.ENGLISH
    ]
    if not others or others[0].value < MIN_MIXED_CONFIDENCE:
        return text
    heard = {others[0].language.iso_code_639_1.name.lower()}
    return translation.stray_words_in_english(text, english_words() | set(catalog_words), heard)
