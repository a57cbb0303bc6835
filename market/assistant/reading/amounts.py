"""Amounts of money in a shopper's words, read into integer minor units: "under $120" -> at most 12000 USD.

Budgets come in many phrasings: bounds ("under $120", "€80 max", "at least 100 USD", "$50+"), ranges
("between 30 and 60", "$30-$60"), approximations ("around 50 bucks" is 40..60), and plain budget words ("my
budget is $200"). A currency comes from a symbol, word or code; plain "$" and "bucks" mean the shopper's own
dollar when that is one. Amounts never pass through a float: they are parsed as `Decimal` and scaled by
the currency's own number of minor units (2 for USD, 0 for JPY), so budgets are exact integers.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import msgspec
from babel.numbers import get_currency_precision

# "around 50" means 50 give or take this fraction: 40..60.
AROUND_SPREAD = Decimal("0.2")


class BudgetReading(msgspec.Struct, frozen=True):
    """Bounds in minor units of `currency` (or of the default currency when the text names none), and the
    text with the budget phrases blanked out (same length, so positions still line up)."""

    budget_min: int | None
    budget_max: int | None
    currency: str | None
    rest: str


# --- numbers -------------------------------------------------------------------------------------------

_SMALL_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_NUMBER_WORDS = {word: value for value, word in enumerate(_SMALL_NUMBERS)} | {
    word: 20 + 10 * index for index, word in enumerate(_TENS)
}
_WORD = (
    r"(?:" + "|".join(sorted([*_NUMBER_WORDS, "hundred", "thousand", "dozen"], key=len, reverse=True)) + r")"
)
# "fifty", "twenty-five", "a hundred and fifty"; "and" only after hundred/thousand, so "thirty and sixty"
# stays two numbers.
WORD_NUMBER = (
    rf"(?:\ba\s+(?=hundred|thousand|dozen))?\b{_WORD}"
    rf"(?:(?:[\s-]+|(?<=hundred)\s+and\s+|(?<=thousand)\s+and\s+){_WORD}){{0,5}}\b"
)
_DIGITS = r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)(?![\d])"


def parse_number(text: str) -> Decimal | None:
    """ "1,299.99", "80,50" (decimal comma), "2k", "twenty-five", "a hundred and fifty" -> Decimal."""
    text = text.strip().lower()
    scale = Decimal(1)
    if text.endswith("k") and text[:-1].strip()[-1:].isdigit():
        text, scale = text[:-1].strip(), Decimal(1000)
    if text[:1].isdigit():
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
            text = text.replace(",", "")
        try:
            return Decimal(text.replace(",", ".")) * scale
        except InvalidOperation:
            return None
    total, current = 0, 0
    for word in re.split(r"[\s-]+", text):
        if word in ("a", "and"):
            current = current or (1 if word == "a" else 0)
        elif word in _NUMBER_WORDS:
            current += _NUMBER_WORDS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "dozen":
            current = max(current, 1) * 12
        elif word == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        else:
            return None
    return Decimal(total + current) * scale


# --- money ---------------------------------------------------------------------------------------------

_CURRENCY_MARKERS: dict[str, str] = {
    "us$": "USD", "usd": "USD", "us dollars": "USD", "us dollar": "USD", "american dollars": "USD",
    "c$": "CAD", "ca$": "CAD", "cad": "CAD", "canadian dollars": "CAD", "canadian dollar": "CAD",
    "canadian": "CAD", "cdn": "CAD", "cdn$": "CAD", "australian": "AUD",
    "a$": "AUD", "au$": "AUD", "aud": "AUD", "australian dollars": "AUD", "australian dollar": "AUD",
    "aussie dollars": "AUD", "aussie dollar": "AUD", "aussie": "AUD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "pounds sterling": "GBP", "quid": "GBP",
    "¥": "JPY", "jpy": "JPY", "yen": "JPY",
    "chf": "CHF", "franc": "CHF", "francs": "CHF", "swiss francs": "CHF",
    "sek": "SEK", "kr": "SEK", "kronor": "SEK", "krona": "SEK", "swedish kronor": "SEK", "swedish krona": "SEK",
    "swiss franc": "CHF", "japanese yen": "JPY", "british pounds": "GBP",
}  # fmt: skip
# Plain "$", "dollars" and "bucks" mean the shopper's own dollar when that is a dollar, else US dollars.
_DOLLAR_WORDS = {"$", "dollar", "dollars", "buck", "bucks"}
_DOLLAR_CURRENCIES = {"USD", "CAD", "AUD"}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_PREFIX_MARKERS = [
    "us$",
    "c$",
    "ca$",
    "a$",
    "au$",
    "$",
    "€",
    "£",
    "¥",
    "usd",
    "eur",
    "gbp",
    "jpy",
    "chf",
    "sek",
    "cad",
    "aud",
]
_PRE = rf"(?:{_alternation(_PREFIX_MARKERS)})"
_POST = rf"(?:{_alternation([*_CURRENCY_MARKERS, *_DOLLAR_WORDS])})"
# Words after a number that make it something other than money: "under 40 lb", "over 2 people".
UNIT_WORDS = (
    "lb", "lbs", "kg", "g", "oz", "ml", "l", "liter", "liters", "litre", "litres", "qt", "quart", "quarts",
    "gal", "gallon", "gallons", "mm", "cm", "m", "in", "inch", "inches", "ft", "foot", "feet", "w", "watt",
    "watts", "v", "volt", "volts", "mah", "gb", "tb", "hz", "lumens", "%", "percent", "person", "people",
    "persons", "player", "players", "season", "seasons", "slice", "slices", "piece", "pieces", "page",
    "pages", "month", "months", "year", "years", "yr", "yrs", "day", "days", "hour", "hours", "minute",
    "minutes", "min", "mins", "second", "seconds", "degree", "degrees", "speed", "speeds", "burner",
    "burners", "cup", "cups", "serving", "servings", "star", "stars", "pack", "packs", "ply", "count",
    "s", "yo", "year-olds", "year-old", "kilo", "kilos", "kilogram", "kilograms", "kgs", "gram", "grams",
    "stone", "pair", "pairs", "kid", "kids", "item", "items", "time", "times", "set", "sets",
)  # fmt: skip
UNIT = rf"(?:{_alternation(UNIT_WORDS)})(?![\w])"


def _amount(name: str) -> str:
    """One amount of money, its parts in groups named after `name`: "$1,299.99", "80€", "50 bucks", "2k"."""
    return (
        rf"(?:(?P<{name}_pre>{_PRE})\s?)?(?P<{name}_num>{_DIGITS}(?:\s?k\b)?|{WORD_NUMBER})(?P<{name}_ish>-?ish\b)?"
        rf"(?:\s?(?P<{name}_post>{_POST})(?![\w$€£¥]))?(?P<{name}_ish2>-?ish\b)?"
    )


# Words that may lead into a budget and go with it out of the query: "shoes for under $100".
_LEAD_WORDS = frozenset((
    ",", "and", "but", "for", "at", "with", "a", "my", "the", "of", "priced", "costing", "cost", "costs",
    "that", "which", "ideally", "preferably", "only", "just", "maybe", "something", "anything", "total",
    "is", "in", "price", "range", "budget", "spend", "to", "i", "can", "could", "pay", "paying", "have",
    "got", "want", "would", "like",
))  # fmt: skip
_BUDGET_WORD = r"(?:budget(?:\s+is|\s+of|'s|\s+'s|:)?(?:\s+(?:only|just|about|around|roughly|max|maximum|up\s+to))?|price\s+range(?:\s+is|\s+of)?|(?:to\s+|can\s+)?spend|(?:to\s+)?pay|afford)"
# An approximate amount said as a ceiling: "about 150 AUD max", "max about 150", "around 100 tops".
_CAP_AFTER = re.compile(r"\b(?:max(?:imum)?|tops|at\s+(?:the\s+)?most|or\s+less|or\s+under)\b", re.IGNORECASE)
_CAP_BEFORE = re.compile(r"\b(?:max(?:imum)?|up\s+to|no\s+more\s+than|at\s+most)\s*$", re.IGNORECASE)
_TAIL = r"(?:\s*(?:max(?:imum)?|tops|or\s+less|or\s+so|at\s+(?:the\s+)?most|or\s+under|or\s+thereabouts)\b)?"
_MAX_WORDS = (
    r"(?:under|below|nothing\s+(?:over|above|more\s+than)(?:\s+like)?|beneath|less\s+than|lower\s+than|cheaper\s+than|no\s+more\s+than|not\s+more\s+than|"
    r"no\s+higher\s+than|not\s+over|at\s+(?:the\s+)?most|up\s*to|max(?:imum)?(?:\s+of)?|within|"
    r"not\s+exceeding|not\s+to\s+exceed|capped\s+at|a\s+cap\s+of|limit\s+of|cap\s+(?:it\s+|that\s+|things\s+|the\s+\w+\s+)?at|"
    r"(?:don'?t|do\s+not|won'?t|wouldn'?t|can'?t|cannot|not)\s+(?:want\s+to\s+|wanna\s+)?(?:pay|spend|go|be)\s+"
    r"(?:more\s+than|over|above|higher\s+than)|<=?)"
)
_MIN_WORDS = (
    r"(?:over|above|more\s+than|greater\s+than|higher\s+than|at\s+least|min(?:imum)?(?:\s+of)?|"
    r"starting\s+(?:at|from)|from|north\s+of|upwards\s+of|no\s+less\s+than|not\s+less\s+than|>=?)"
)
_AROUND_WORDS = (
    r"(?:around|about|roughly|approximately|approx\.?|circa|close\s+to|near|something\s+like|"
    # "like 30 bucks" (an amount of money only: not "like 30 pieces")
    r"(?<!over\s)(?<!under\s)(?<!than\s)(?<!above\s)(?<!below\s)(?<!to\s)like(?=\s*(?:[$£€¥]|\d+(?:[.,]\d+)?\s*(?:bucks|dollars|quid|pounds|euros?|usd|eur|gbp|cad|aud)\b))|"
    r"in\s+the\s+(?:region|ballpark|range)\s+of|somewhere\s+around|~)"
)
_MAX_TAIL = (
    r"(?:max(?:imum)?|tops|or\s+less|or\s+under|or\s+below|or\s+cheaper|and\s+under|and\s+below|"
    r"at\s+(?:the\s+)?most|limit)\b"
)
_MIN_TAIL = r"(?:or\s+more|and\s+up|and\s+above|or\s+above|or\s+higher|minimum|at\s+least|\+)"
_OPEN = rf"(?:\b{_BUDGET_WORD}\s+)?"
_BUDGET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("range", rf"{_OPEN}\bbetween\s+{_amount('a')}\s*(?:and|&|-|–|to)\s*{_amount('b')}{_TAIL}"),
        ("range", rf"{_OPEN}\bfrom\s+{_amount('a')}\s*(?:to|-|–|until|up\s+to)\s*{_amount('b')}{_TAIL}"),
        ("marked_range", rf"{_OPEN}(?<![\w$€£¥]){_amount('a')}\s*(?:-|–|to)\s*{_amount('b')}{_TAIL}"),
        ("around", rf"{_OPEN}(?:\b|(?=~)){_AROUND_WORDS}\s*{_amount('a')}{_TAIL}"),
        ("max", rf"{_OPEN}(?:\b|(?=<)){_MAX_WORDS}\s*{_amount('a')}{_TAIL}"),
        ("min", rf"{_OPEN}(?:\b|(?=>)){_MIN_WORDS}\s*{_amount('a')}(?:\s*{_MIN_TAIL})?"),
        ("max", rf"(?<![\w$€£¥]){_amount('a')}\s*{_MAX_TAIL}"),
        # (not an age: "board games for kids 8 and up")
        ("min", rf"(?<![\w$€£¥])(?<!kids\s)(?<!ages\s)(?<!age\s)(?<!aged\s){_amount('a')}\s*{_MIN_TAIL}"),
        ("around", rf"(?<![\w$€£¥]){_amount('a')}\s*or\s+so\b"),
        ("budget", rf"\b{_BUDGET_WORD}\s+{_amount('a')}{_TAIL}"),
        ("ish", rf"(?<![\w$€£¥]){_amount('a')}"),
    )
)  # fmt: skip
_CURRENCY_WORDS = [word for word in [*_CURRENCY_MARKERS, *_DOLLAR_WORDS] if word[0].isalpha()]
# "in euros", "priced in USD": a currency without an amount.
_CURRENCY_ONLY = re.compile(
    rf"\b(?:in|using|with|priced\s+in|pay\s+in|paying\s+in)\s+(?P<cur>{_alternation(_CURRENCY_WORDS)})\b",
    re.IGNORECASE,
)


_A_YEAR = re.compile(r"(?:19|20)(?!00)\d\d")  # 1901-2099 but the round 2000 and 1900
# "euro prices please", "dollar amounts": the currency to show prices in.
_CURRENCY_PRICES = re.compile(
    rf"\b(?P<cur>{_alternation(_CURRENCY_WORDS)})\s+(?:prices|pricing|amounts|figures|please|pls|plz)\b",
    re.IGNORECASE,
)


def _currency_of(marker: str | None, default: str) -> str | None:
    if not marker:
        return None
    marker = " ".join(marker.lower().split())
    if marker in _DOLLAR_WORDS:
        return default if default in _DOLLAR_CURRENCIES else "USD"
    return _CURRENCY_MARKERS.get(marker)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Decimal major units -> integer minor units of `currency`, rounded half up (never through a float)."""
    exponent = get_currency_precision(currency)
    return int((amount * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_budget(text: str, *, currency_default: str) -> BudgetReading:
    """The budget and currency `text` names, if any; `currency_default` decides minor units and "$"."""
    masked = text
    low: Decimal | None = None
    high: Decimal | None = None
    currency: str | None = None
    for kind, pattern in _BUDGET_PATTERNS:
        for match in list(pattern.finditer(masked)):
            if not match.group(0).strip() or text[match.start() : match.end()] != match.group(0):
                continue  # overlaps a budget read by an earlier pattern
            parts = match.groupdict()
            markers = [parts.get(f"{n}_{side}") for n in ("a", "b") for side in ("pre", "post")]
            after = masked[match.end() :]
            if not any(markers) and re.match(rf"\s*{UNIT}", after, re.IGNORECASE):
                continue  # "under 40 lb" is a weight
            if kind == "marked_range" and (not any(markers) or not parts["b_num"][:1].isdigit()):
                continue  # "2-4 players", "0-3 months", "twenty-five"
            amounts = [parse_number(parts[f"{n}_num"]) for n in ("a", "b") if parts.get(f"{n}_num")]
            if any(amount is None for amount in amounts):
                continue
            approximate = kind in ("around", "ish") or parts.get("a_ish") or parts.get("a_ish2")
            if (approximate or kind == "min") and not any(markers) and _A_YEAR.fullmatch(parts.get("a_num") or ""):
                continue  # "since about 1985", "around 2019", "the one from 1998": a year, not money
            found = next((c for m in markers if (c := _currency_of(m, currency_default))), None)
            currency = currency or found
            ish = parts.get("a_ish") or parts.get("a_ish2")
            if kind == "ish" and not ish:
                continue  # a bare number is not a budget
            capped = _CAP_AFTER.search(match.group(0)) or _CAP_BEFORE.search(masked[: match.start()])
            if (ish or kind in ("around", "ish")) and capped:
                high = high if high is not None else amounts[0]  # "about 150 AUD max": 150 at most
            elif ish or kind in ("around", "ish"):
                spread = amounts[0] * AROUND_SPREAD
                low = low if low is not None else amounts[0] - spread
                high = high if high is not None else amounts[0] + spread
            elif kind in ("range", "marked_range"):
                low, high = min(amounts), max(amounts)
            elif kind == "min":
                low = low if low is not None else amounts[0]
            else:
                high = high if high is not None else amounts[0]
            masked = _blank(masked, _lead_start(masked, match.start()), match.end())
    # "are these in euros? what's that in US dollars?": the currency named last is the one wanted
    named = [*_CURRENCY_ONLY.finditer(masked), *_CURRENCY_PRICES.finditer(masked)]
    for match in sorted(named, key=lambda found: found.start(), reverse=True):
        currency = currency or _currency_of(match.group("cur"), currency_default)
        masked = _blank(masked, match.start(), match.end())
    unit_currency = currency or currency_default
    if low is not None and high is not None and low > high:
        low, high = high, low
    return BudgetReading(
        budget_min=to_minor_units(low, unit_currency) if low is not None else None,
        budget_max=to_minor_units(high, unit_currency) if high is not None else None,
        currency=currency,
        rest=masked,
    )


def _lead_start(text: str, start: int) -> int:
    """Where the words leading into a budget begin ("for", "priced at", ","), walking back word by word."""
    while True:
        end = len(text[:start].rstrip())
        if end and text[end - 1] == ",":
            start = end - 1
            continue
        word_start = end
        while word_start and (text[word_start - 1].isalnum() or text[word_start - 1] == "'"):
            word_start -= 1
        if word_start == end or text[word_start:end].lower() not in _LEAD_WORDS:
            return start
        start = word_start


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]
