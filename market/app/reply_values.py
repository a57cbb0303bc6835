"""Prices, attribute values and product names in an assistant's reply, read the way `agora eval assistant`
checks them: pure functions of text (see `market/assistant/dialogues/shoppers/FORMAT.md`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from market.app.reply_reading import plain, sentences

# --- prices ------------------------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[,.\u00a0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PREFIX = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "$": "USD", "€": "EUR",
           "£": "GBP", "¥": "JPY", "CHF": "CHF", "USD": "USD", "EUR": "EUR", "GBP": "GBP", "CAD": "CAD",
           "AUD": "AUD", "SEK": "SEK", "JPY": "JPY"}  # fmt: skip
_SUFFIX = {"€": "EUR", "kr": "SEK", "SEK": "SEK", "CHF": "CHF", "USD": "USD", "EUR": "EUR", "GBP": "GBP",
           "CAD": "CAD", "AUD": "AUD", "JPY": "JPY", "yen": "JPY", "euros": "EUR", "dollars": "USD"}  # fmt: skip


def _alternation(symbols) -> str:
    return "|".join(re.escape(symbol) for symbol in sorted(symbols, key=len, reverse=True))


_MONEY = re.compile(
    rf"(?P<pre>{_alternation(_PREFIX)})\s?(?P<a>{_NUMBER})(?![\d])"
    rf"|(?<![\w.,])(?P<b>{_NUMBER})\s?(?P<post>{_alternation(_SUFFIX)})(?!\w)"
)
_APPROXIMATE_BEFORE = re.compile(
    r"(?:~|≈|\babout|\bapprox\.?|\bapproximately|\baround|\broughly|\bcirca|\bc\.|\bsome|\bnearly|\balmost"
    r"|\bclose to|\bjust (?:under|over)|\bapprox(?:imately)? equal to)\s*\(?$",
    re.IGNORECASE,
)
_APPROXIMATE_AFTER = re.compile(
    r"^\s*\)?\s*(?:\(?approx(?:\.|imately)?\)?|or so|roughly|\(est\.?\))", re.IGNORECASE
)


@dataclass(frozen=True)
class MoneyMention:
    currency: str
    value: Decimal  # major units, as written
    start: int
    end: int
    approximate: bool  # marked as approximate ("~£10.50", "about €12", "12 EUR approx.")


def money_mentions(text: str) -> list[MoneyMention]:
    """Every price written in `text`: "$129.99", "€12,99", "12.99 EUR", "129 kr", "CA$20"."""
    found = []
    for match in _MONEY.finditer(text):
        symbol, number = (match["pre"], match["a"]) if match["pre"] else (match["post"], match["b"])
        value = parse_number(number)
        if value is None:
            continue
        currency = (_PREFIX if match["pre"] else _SUFFIX)[symbol]
        approximate = bool(
            _APPROXIMATE_BEFORE.search(text[max(0, match.start() - 25) : match.start()])
            or _APPROXIMATE_AFTER.search(text[match.end() : match.end() + 20])
        )
        found.append(MoneyMention(currency, value, match.start(), match.end(), approximate))
    return found


def parse_number(text: str) -> Decimal | None:
    """ "1,200" -> 1200, "12,99" -> 12.99, "1.234,50" -> 1234.50, "1 200" -> 1200."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", text):
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d+,\d{1,2}", text):
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


# --- attribute values and quantities -------------------------------------------------------------------------

_UNITS: dict[str, tuple[str, Decimal]] = {
    written: (unit, Decimal(factor))
    for unit, factor, spellings in (
        ("l", "1", "l liter liters litre litres ltr"),
        ("l", "0.001", "ml milliliter milliliters millilitre millilitres"),
        ("lm", "1", "lm lumen lumens"),
        ("f", "1", "°f ºf ° degrees degree f fahrenheit degreesf degreef degreesfahrenheit"),
        ("in", "1", 'in inch inches " ”'),
        ("ft", "1", "ft feet foot"),
        ("person", "1", "person people persons"),
        ("w", "1", "w watt watts"),
        ("lb", "1", "lb lbs pound pounds"),
        ("qt", "1", "qt quart quarts"),
        ("min", "1", "min mins minute minutes"),
        ("player", "1", "player players"),
        ("page", "1", "page pages"),
        ("mm", "1", "mm millimeter millimeters millimetre millimetres"),
    )
    for written in spellings.split()
}
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_QUANTITY = re.compile(
    rf"(?<![\w.])(?P<lo>{_NUM})(?:\s*(?:-|–|to)\s*(?P<hi>{_NUM}))?(?:\s*-\s*|\s*)"
    r"(?P<unit>[°º]\s?f\b|[°º]|degrees?(?:\s?f(?:ahrenheit)?)?\b|[a-z]+\b|\"|”)?"
)
_NUMBER_WORDS = {
    word: str(n)
    for n, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    )
}


@dataclass(frozen=True)
class Quantity:
    low: Decimal
    high: Decimal  # the upper end of a range ("2-6 players"), else the same as low
    unit: str | None  # canonical ("l", "lm", "f", "in", "person", "w", ...), None for a bare number


def quantities(text: str) -> list[Quantity]:
    """Every number-with-unit in `text`: "20 L", "1,200 lumens", "15°F", "2-person", "two people", "65W"."""
    text = re.sub(r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten)\b",
                  lambda m: _NUMBER_WORDS[m[0]], plain(text).lower())  # fmt: skip
    return [_quantity(match) for match in _QUANTITY.finditer(text)]


def as_quantity(value: str) -> Quantity | None:
    """`value` read as one quantity, when that is all it is ("20 L", "2-6 players", "1500"), else None."""
    match = _QUANTITY.fullmatch(plain(value).lower().strip())
    return _quantity(match) if match else None


def _quantity(match: re.Match) -> Quantity:
    unit, factor = None, Decimal(1)
    if match["unit"]:
        written = re.sub(r"\s", "", match["unit"])
        unit, factor = _UNITS.get(written, (written, Decimal(1)))
    low = Decimal(match["lo"].replace(",", "")) * factor
    high = Decimal(match["hi"].replace(",", "")) * factor if match["hi"] else low
    return Quantity(low, high, unit)


def same_quantity(expected: Quantity, stated: Quantity) -> bool:
    """A stated quantity gives `expected` when the units agree (a bare expected number takes any) and the
    numbers do; a range is given by itself or by its upper end ("up to 6 players")."""
    if expected.unit is not None and stated.unit != expected.unit:
        return False
    return (stated.low, stated.high) == (
        expected.low,
        expected.high,
    ) or stated.high == stated.low == expected.high


def normalized(text: str) -> str:
    text = re.sub(r"\bgray\b", "grey", plain(text).lower())
    return re.sub(r"\s+", " ", re.sub(r"[-_/]", " ", text)).strip()


def states_value(reply: str, value: object) -> bool:
    """Whether `reply` gives this attribute value: case-insensitive, "gray" = "grey", hyphens as spaces,
    numbers with units loosely ("20 L" = "20L" = "20 litres", "2-person" = "2 people")."""
    if isinstance(value, list):
        return any(states_value(reply, item) for item in value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    expected = as_quantity(text)
    if expected is not None and any(same_quantity(expected, stated) for stated in quantities(reply)):
        return True
    return re.search(rf"(?<!\w){re.escape(normalized(text))}(?!\w)", normalized(reply)) is not None


# --- which product the reply names --------------------------------------------------------------------------

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_COMPARATIVE = re.compile(
    r"\b(?:more|less|most|least|better|best|winner|wins|edge|go (?:with|for)|pick|choose|recommend"
    r"|(?:bigg|larg|high|great|warm|cool|cold|light|heav|long|short|wid|narrow|bright|loud|strong|cheap|pric"
    r"|small|low|room|sturd|tough|tall|thick|thin|cost|dear|fast|quiet|power)i?e(?:r|st))\b",
    re.IGNORECASE,
)
_STOP = frozenset(["the", "and", "for", "with", "from", "one", "this", "that", "size"])


@dataclass(frozen=True)
class Named:
    """A product as a reply may name it: its position in the list, its title and brand."""

    position: int
    title: str
    brand: str


def position_words(position: int, pair: Sequence[int] = ()) -> re.Pattern:
    """ "second", "2nd", "#2", "number 2", "no. 2", "option 2", "(2)"; "former"/"latter" for a compared pair."""
    words = [rf"{position}(?:st|nd|rd|th)\b", rf"#\s?{position}\b", rf"\({position}\)",
             rf"\b(?:number|no\.?|nr\.?|option|item|product|choice|pick)\s?#?\s?{position}\b"]  # fmt: skip
    if position <= len(ORDINALS):
        words.append(rf"\b{ORDINALS[position - 1]}\b")
    if len(pair) == 2:
        words.append(r"\bformer\b" if position == pair[0] else r"\blatter\b")
    return re.compile("|".join(f"(?:{word})" for word in words), re.IGNORECASE)


def mentions_of(
    reply: str, product: Named, other: Named, pair: Sequence[int], ignore: Sequence[str]
) -> list[int]:
    """Where `reply` names `product` rather than `other`: its position word, a word of its title the other's
    lacks (not a bare number, nor one of the `ignore`d values), or its brand when the brands differ."""
    text = plain(reply)
    found = [match.start() for match in position_words(product.position, pair).finditer(text)]
    own, others = (
        _words(product.title),
        _words(other.title) | {word for value in ignore for word in _words(value)},
    )
    for word in own - others:
        if len(word) >= 3 and word not in _STOP and not word.replace(".", "").isdigit():
            found += [
                match.start()
                for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
            ]
    if product.brand.lower() != other.brand.lower():
        found += [match.start() for match in re.finditer(re.escape(product.brand), text, re.IGNORECASE)]
    return sorted(set(found))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9][a-z0-9'.+]*[a-z0-9]|[a-z0-9]", plain(text).lower()))


def names_winner(reply: str, winner: Named, loser: Named, ignore: Sequence[str] = ()) -> bool:
    """Whether the reply names `winner` as the answer: it names it, and when it names both, the first product
    named in the first sentence with a comparative ("more", "bigger", "warmest", "go with", ...) is it."""
    pair = tuple(sorted((winner.position, loser.position)))
    text = plain(reply)
    if not mentions_of(text, winner, loser, pair, ignore):
        return False
    if not mentions_of(text, loser, winner, pair, ignore):
        return True
    for sentence in sentences(text):
        if not _COMPARATIVE.search(sentence):
            continue
        ours, theirs = (
            mentions_of(sentence, winner, loser, pair, ignore),
            mentions_of(sentence, loser, winner, pair, ignore),
        )
        if ours or theirs:
            return bool(ours) and (not theirs or ours[0] < theirs[0])
    return False  # both named, and no sentence says which
