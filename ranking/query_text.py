"""Product text normalised the same way for the index and for the query, before the words are indexed.

Shoppers and catalogs write one measure many ways and the word index saw them as different words:
`1/2 in.`, `0.5 inch` and `1/2"` all become `0.5in`; `4 ft` becomes `48in` (lengths are kept in inches, so
it meets a title's `48 in.`); a compound dimension `2x4` or `4x8ft` is split into its measures (`2 x 4`,
`48in x 96in`) and also kept whole (`2x4`); a model number `WD-40` or `R-13` is also written joined
(`wd40`, `r13`), so `wd40` finds it. Plurals are folded with a light rule (`lights` -> `light`,
`batteries` -> `battery`) instead of a full stemmer, which merged words that differ for products
(`brushed` and `brush`, a finish and a tool). Units come from `ranking/vocabulary/units.json`.
"""

from __future__ import annotations

import functools
import json
import re
from fractions import Fraction
from pathlib import Path

UNITS_FILE = Path(__file__).parent / "vocabulary" / "units.json"
_FEET_IN_INCHES = 12

_NUMBER = r"(?:\d+\s+\d+/\d+|\d+-\d+/\d+|\d+/\d+|\d*\.\d+|\d+)"  # 1 1/2, 1-1/2, 1/2, .5, 0.5, 12
# A word: letters and digits, with a decimal point kept inside a number ("0.5in" stays one word).
_WORD = re.compile(r"[^\W_]+(?:\.\d+[^\W_]*)*")
_MODEL = re.compile(r"\b([a-z]+)-(\d+[a-z]*)\b")  # wd-40, r-13, rtx-3080
_NOT_PLURAL = ("ss", "us", "is", "as", "ous", "ics")


@functools.cache
def _units() -> dict[str, str]:
    """Every spelling of a unit (lower case, without a final '.') -> its canonical token."""
    table = json.loads(UNITS_FILE.read_text(encoding="utf-8"))
    return {
        alias.lower().rstrip("."): canonical
        for canonical, aliases in table.items()
        if not canonical.startswith("_")
        for alias in aliases
    }


# A number and what follows it that may be a unit; whether it is one is looked up in the table (one regex
# with every spelling as an alternative took ten times longer over a product description).
_MEASURE = re.compile(rf"(?=[\d.])(?<![\w.])({_NUMBER})\s*-?\s*(fl\.? ?oz\.?|[a-z]+\.?|''|[\"”'’])(?![a-z])")


def _number(text: str) -> float:
    text = text.strip()
    whole, _, rest = (text.replace("-", " ", 1) if "/" in text else text).partition(" ")
    if rest:
        return float(int(whole) + Fraction(rest.strip()))
    return float(Fraction(text)) if "/" in text else float(text)


def _format(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _measure(match: re.Match[str]) -> str:
    number, written = match.group(1), match.group(2)
    unit = _units().get(re.sub(r"\s+", " ", written).rstrip("."))
    if unit is None:
        return match.group(0)
    value = _number(number)
    if unit == "ft":
        value, unit = value * _FEET_IN_INCHES, "in"
    return f" {_format(value)}{unit} "


def _dimensions(match: re.Match[str]) -> str:
    """`4x8ft` -> `4x8ft 4ft x 8ft` (the unit of the last applies to all); `2x4` -> `2x4 2 x 4`."""
    whole = match.group(0)
    numbers, unit = match.group(1).split("x"), match.group(2) or ""
    spaced = " x ".join(f"{n}{' ' + unit if unit else ''}" for n in numbers)
    return f" {whole} {spaced} "


_DIMENSION = re.compile(r"\b(\d+(?:\.\d+)?(?:x\d+(?:\.\d+)?)+)\s?(in|ft|cm|mm|m)?\b")


def singular(word: str) -> str:
    """A light plural fold: only the endings English plurals take, never a word's own ending."""
    if len(word) <= 3 or not word.isalpha() or word.endswith(_NOT_PLURAL):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """Lower case, measures in one form, compound dimensions split, model numbers also joined."""
    if not text:
        return ""
    text = text.lower().replace("×", "x")
    text = _DIMENSION.sub(_dimensions, text)
    text = _MEASURE.sub(_measure, text)
    return _MODEL.sub(lambda m: f"{m.group(0)} {m.group(1)}{m.group(2)}", text)


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order: what both the index and a query are made of."""
    return [singular(word) for word in _WORD.findall(normalize(text))]
