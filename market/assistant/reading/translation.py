"""Messages in the languages the assistant reads through a glossary, put into English before they are read.

No translation model runs offline here. A shopping message is short and most of its words are the catalog's
own ("a cast iron pan under 40 euros, add the second one"), so a phrase glossary per language
(`data/glossary/<code>.json`: Spanish, French, German, Italian, Portuguese, Dutch) carries it: longest phrase
first, case and accents ignored, a word's common endings tried when the word itself is not listed, and a
German or Dutch compound the glossary lacks split into two parts it has ("Regen" + "jacke"). The English is
then read like any other message, and the reply says how the message was read.

A message is not guessed at: when the glossary knows too few of its words, there is no translation and the
caller says honestly that it did not understand.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from importlib.resources import files

MIN_KNOWN_SHARE = 0.75  # of a message's words the glossary (or English, or the catalog) must know
_LONGEST_PHRASE = 6
_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
# A word (with a French elision kept apart: "l'anglais" is "l'" + "anglais"), a number, or a mark worth keeping.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+'|[^\W\d_]+|[?!.,;:€$£%/-]", re.UNICODE)
# Endings tried in turn when a word is not listed as it is: plurals and gender forms ("mochilas", "rote").
_ENDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (("es", ""), ("s", ""), ("a", "o"), ("as", "os")),
    "pt": (("oes", "ao"), ("aes", "ao"), ("ns", "m"), ("es", ""), ("s", ""), ("a", "o"), ("as", "os")),
    "fr": (("aux", "al"), ("x", ""), ("es", "e"), ("s", ""), ("e", "")),
    "it": (("i", "o"), ("i", "e"), ("e", "a"), ("he", "a"), ("hi", "o"), ("a", "o")),
    "de": (("en", ""), ("n", ""), ("e", ""), ("er", ""), ("es", ""), ("s", "")),
    "nl": (("en", ""), ("s", ""), ("e", ""), ("jes", ""), ("tje", ""), ("je", "")),
}
_SIZE_LETTERS = frozenset({"XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"})
_COMPOUNDING = {"de", "nl"}
_LINKS = ("", "s", "n", "en", "e", "es")  # what joins a compound's parts: "Schlaf-s-"... "Kinder-"


@dataclass(frozen=True)
class Translation:
    """A message read in English: the language it was written in, the English, and what to tell the shopper."""

    code: str
    english: str
    note: str  # "I read your message as "...""; in the shopper's language
    known: float = 1.0  # the share of the message's words the glossary (or English, or the catalog) knew


@dataclass(frozen=True)
class _Glossary:
    code: str
    read_as: str
    not_understood: str
    phrases: dict[tuple[str, ...], str]


@functools.cache
def languages() -> frozenset[str]:
    """The languages a glossary is shipped for."""
    folder = files("market.assistant.reading").joinpath("data/glossary")
    return frozenset(
        entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json")
    )


def _fold(word: str) -> str:
    """Lower case without accents: "Größe" and "grosse", "poêle" and "poele" are one key."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().rstrip("'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@functools.cache
def _glossary(code: str) -> _Glossary:
    path = files("market.assistant.reading").joinpath(f"data/glossary/{code}.json")
    data = json.loads(path.read_text("utf-8"))
    phrases: dict[tuple[str, ...], str] = {}
    for source, english in data["phrases"].items():
        key = tuple(_fold(token) for token in _TOKEN.findall(source) if not _mark(token))
        if key and len(key) <= _LONGEST_PHRASE:
            phrases.setdefault(key, english.strip())
    return _Glossary(code, data["read_as"], data["not_understood"], phrases)


def _mark(token: str) -> bool:
    return not token[0].isalnum()


def not_understood(code: str) -> str:
    """What to say, in that language, when too little of a message was understood."""
    return _glossary(code).not_understood


def to_english(text: str, code: str, keep: Collection[str] = ()) -> Translation | None:
    """`text`, written in the language `code`, in English; None when the glossary does not know enough of it.
    Words in `keep` (English and the catalog's own words, brands) are kept as they are when the glossary
    does not list them."""
    if code not in languages():
        return None
    glossary = _glossary(code)
    # A hyphen between words parts them as a space does ("3-jarige", "est-il").
    tokens = _TOKEN.findall(_HYPHEN.sub(" ", text.replace("’", "'")))
    folded = [_fold(token) for token in tokens]
    out: list[str] = []
    words = known = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if _mark(token) or token in _SIZE_LETTERS:  # "Größe M": a size in capitals is no word to translate
            out.append(token)
            index += 1
            continue
        phrase = _longest_phrase(glossary, folded, index)
        if phrase is not None:
            length, english = phrase
            counted = sum(1 for word in tokens[index : index + length] if not word[0].isdigit())
            words += counted
            known += counted
            out.append(english)
            index += length
            continue
        if token[0].isdigit():  # "1,5" litres is 1.5
            out.append(token.replace(",", "."))
            index += 1
            continue
        words += 1
        english = _one_word(glossary, folded[index], token, keep)
        if english is not None:
            known += 1
            out.append(english)
        index += 1
    if not words or known / words < MIN_KNOWN_SHARE:
        return None
    english = _joined(out)
    if not english:
        return None
    return Translation(code, english, glossary.read_as.format(english=english), known / words)


def stray_words_in_english(text: str, keep: Collection[str], codes: Collection[str]) -> str:
    """An English message with a few words of a glossary language in it ("I need um presente for my sobrinho"),
    those words put into English: words English and the catalog do not know (`keep`) that one glossary lists
    alone, when it lists two or more of them (one such word is likelier an English word the lists lack).
    `codes`: the languages the message may hold words of (a glossary's loanwords, "uni" or "lunchbox", are
    English too)."""
    strays: dict[str, dict[str, str]] = {}
    for word in re.findall(r"[^\W\d_]+", text):
        folded = _fold(word)
        if len(folded) < 3 or folded in keep or word.lower() in keep:
            continue
        for code in sorted(languages() & set(codes)):
            if (listed := _glossary(code).phrases.get((folded,))) is not None:
                strays.setdefault(code, {})[folded] = listed
    found = max(strays.values(), key=len, default={})
    if len(found) < 2:
        return text
    english = re.sub(r"[^\W\d_]+", lambda match: found.get(_fold(match.group(0)), match.group(0)), text)
    return " ".join(english.split())


def _longest_phrase(glossary: _Glossary, folded: list[str], start: int) -> tuple[int, str] | None:
    # Phrases span words and numbers ("il a 8 ans"), never a mark: "no más de, 100" is two pieces.
    end = start
    while end < len(folded) and end - start < _LONGEST_PHRASE and not _mark(folded[end]):
        end += 1
    for stop in range(end, start, -1):
        english = glossary.phrases.get(tuple(folded[start:stop]))
        if english is not None:
            return stop - start, english
    return None


def _one_word(glossary: _Glossary, word: str, original: str, keep: Collection[str]) -> str | None:
    english = _inflected(glossary, word)
    if english is not None:
        return english
    if original.lower().rstrip("'") in keep:
        return original.rstrip("'")
    if glossary.code in _COMPOUNDING:
        return _compound(glossary, word)
    return None


def _inflected(glossary: _Glossary, word: str) -> str | None:
    for ending, replacement in _ENDINGS[glossary.code]:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            english = glossary.phrases.get((word[: len(word) - len(ending)] + replacement,))
            if english is not None:
                return english
    return None


def _known(glossary: _Glossary, word: str) -> str | None:
    return glossary.phrases.get((word,)) or _inflected(glossary, word)


def _compound(glossary: _Glossary, word: str) -> str | None:
    """A compound of two listed words, the longest head tried first: "yogablöcke" is "yoga" + "blöcke"."""
    for split in range(3, len(word) - 2):
        head = _known(glossary, word[split:])
        if not head:
            continue
        for link in _LINKS:
            modifier_word = word[:split]
            if link and not modifier_word.endswith(link):
                continue
            modifier = _known(
                glossary, modifier_word[: len(modifier_word) - len(link)] if link else modifier_word
            )
            if modifier:
                return f"{modifier} {head}"
    return None


def _joined(pieces: list[str]) -> str:
    text = " ".join(piece for piece in pieces if piece)
    text = re.sub(r"\s+([?!.,;:%])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,;:")
