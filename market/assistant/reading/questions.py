"""What a shopper asks about a product ("is the second one machine washable?", "does it ship to Canada?")
and along what they compare products ("which of the two is heavier?"), read without a model.

The phrases are data (`data/properties.json`): a question names properties (attribute keys of the catalog,
or price, availability, sizes, colours, shipping, returns, ...), perhaps a value to check ("size 10", "in
blue", "to Canada"); a comparison names the attributes to compare and which end wins.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Literal

from babel import Locale
from babel.numbers import get_territory_currencies
from msgspec import Struct

_QUESTION = re.compile(
    r"\?|(?:^|[.!;]\s)\s*(?:(?:and|so|also|but|ok(?:ay)?|oh)\W+)?(?:is|are|does|do|did|can|could|will|would|what|what's|"
    r"whats|which|how|who|where|when|tell\s+me|"
    r"any\s+idea|i\s+wonder)\b",
    re.IGNORECASE,
)
_COUNTRY_ALIASES = {
    "us": "US", "usa": "US", "america": "US", "the states": "US", "united states": "US", "uk": "GB",
    "britain": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "holland": "NL",
}  # fmt: skip


class Question(Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The properties asked about, most specific first; `country` for a shipping question ("to Canada");
    `named`: attribute values the question names, (key, value) ("is it goose down?" asks yes or no)."""

    properties: tuple[str, ...]
    country: str | None = None
    named: tuple[tuple[str, str], ...] = ()


class Comparison(Struct, frozen=True, kw_only=True):
    """Compare along the first of `attributes` the products have; `wants` says which end wins."""

    attributes: tuple[str, ...]
    wants: Literal["max", "min"]
    phrase: str


@functools.cache
def _data() -> dict:
    return json.loads(files("market.assistant.reading").joinpath("data/properties.json").read_text("utf-8"))


def _pattern(phrases: list[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(phrase) for phrase in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


@functools.cache
def _question_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, _pattern(phrases)) for name, phrases in _data()["questions"].items())


@functools.cache
def _comparison_pattern() -> tuple[re.Pattern[str], dict[str, dict]]:
    comparisons = _data()["comparisons"]
    return _pattern(list(comparisons)), {phrase.lower(): rule for phrase, rule in comparisons.items()}


@functools.cache
def _countries() -> dict[str, str]:
    names = {name.lower(): code for code, name in Locale("en").territories.items() if code.isalpha()}
    return names | _COUNTRY_ALIASES


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


_HOW_MUCH_OF_ELSE = re.compile(
    r"\bhow\s+much\s+(?:[\w']+\s+){0,4}?(weigh|weighs|weight|hold|holds|fit|fits|water|liquid|power|space)\b",
    re.IGNORECASE,
)
_ASKED_BY_VERB = {
    "weigh": ("weight",), "weighs": ("weight",), "weight": ("weight",), "hold": ("volume", "capacity"),
    "holds": ("volume", "capacity"), "fit": ("capacity", "volume"), "fits": ("capacity", "volume"),
    "water": ("volume",), "liquid": ("volume",), "power": ("wattage",), "space": ("volume", "capacity"),
}  # fmt: skip


_EITHER_OR = re.compile(r"\s+or\s+(?!not\b|no\b)[\w-]", re.IGNORECASE)


def read_question(
    text: str,
    attribute_keys: tuple[str, ...] = (),
    attribute_values: Mapping[str, Sequence[str]] | None = None,
) -> Question | None:
    """The properties a question asks about, in the order it names them; None when
    the message names none. `attribute_keys`: the catalog's own attribute names ("noise_control");
    `attribute_values`: their values, which name their attribute too ("is it linen?" asks the material).
    A phrase inside a longer one names nothing of its own ("cast iron" is a material, not ironing)."""
    found: list[tuple[int, int, int, str]] = []
    for name, pattern in _question_patterns():
        for match in pattern.finditer(text):
            found.append((match.start() - match.end(), match.start(), match.end(), name))
    phrases = [(key, key.replace("_", " ")) for key in attribute_keys]
    phrases += [
        (key, str(value))
        for key, values in (attribute_values or {}).items()
        for value in values
        if len(str(value)) >= 4 and not str(value).isdigit()
    ]
    values: dict[tuple[int, int], str] = {}
    for index, (key, phrase) in enumerate(phrases):
        for match in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE):
            found.append((match.start() - match.end(), match.start(), match.end(), key))
            if index >= len(attribute_keys):
                values[match.span()] = phrase
    if other := _HOW_MUCH_OF_ELSE.search(text):
        # "how much does the 2nd one weigh?", "how much water does it hold?": no price asked
        found = [entry for entry in found if not (entry[3] == "price" and other.start() <= entry[1] < other.end())]
        if not found:  # "how much does the first one hold?": the verb names what is asked
            found = [(other.start() - other.end(), other.start(), other.end(), name) for name in _ASKED_BY_VERB[other[1].lower()]]
    kept: list[tuple[int, int, int, str]] = []
    for entry in sorted(found):
        if not any(
            start <= entry[1] and entry[2] <= end and (start, end) != entry[1:3] for _, start, end, _ in kept
        ):
            kept.append(entry)
    if not kept:
        return None
    properties = tuple(dict.fromkeys(name for *_, name in sorted(kept, key=lambda entry: entry[1])))
    country = _country(text) if "shipping" in properties else None
    named = tuple(
        dict.fromkeys(
            (key, values[start, end])
            for _, start, end, key in kept
            if (start, end) in values
            and not _EITHER_OR.match(text, end)  # "titanium or steel?": which
            and not asks_which(text, start, end)  # "what fabric is it?": which material
        )
    )
    return Question(properties=properties, country=country, named=named)


_WHICH_BEFORE = re.compile(r"\b(?:what|which)\s+(?:kind\s+of\s+|sort\s+of\s+|type\s+of\s+)?$", re.IGNORECASE)
_ASKED_OF = re.compile(
    r"\s+(?:is|are|was|were|does|do|did)\s+(?:it|they|this|that|these|those|the|its|their)\b", re.IGNORECASE
)


def asks_which(text: str, start: int, end: int) -> bool:
    """Whether the value said at `text[start:end]` names the attribute asked about, not a value wanted:
    "what fabric is it?" (not "what men's running shoes do you have")."""
    return bool(_WHICH_BEFORE.search(text[:start]) and _ASKED_OF.match(text[end:]))


def read_comparison(text: str) -> Comparison | None:
    pattern, rules = _comparison_pattern()
    match = pattern.search(text)
    if match is None:
        return None
    rule = rules[match.group(0).lower()]
    return Comparison(
        attributes=tuple(rule["attributes"]), wants=rule["wants"], phrase=match.group(0).lower()
    )


# "I'm in the UK", "we live in Sweden", "shopping from Canada": where the shopper is, whose currency they read.
_WHERE_I_AM = re.compile(
    r"\b(?:i'?m|i\s+am|we'?re|we\s+are|based|living|live|shopping|ordering|buying)\s+(?:in|from)\s+(?P<place>.+)",
    re.IGNORECASE,
)


def home_currency(text: str) -> str | None:
    """The currency of the country the shopper says they are in ("i'm in the UK": GBP), if any."""
    match = _WHERE_I_AM.search(text)
    code = _country(match["place"]) if match else None
    currencies = get_territory_currencies(code) if code else []
    return currencies[0] if currencies else None


def _country(text: str) -> str | None:
    lowered = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    for name, code in sorted(_countries().items(), key=lambda item: len(item[0]), reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", lowered):
            return code
    return None
