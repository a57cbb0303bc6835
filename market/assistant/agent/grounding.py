"""Grounding: a reply may only state what this conversation's tool results say.

Every price (an amount with a currency), product name, stock figure, discount or percentage and link in a
reply is checked against the facts gathered from the tool results: prices and list prices, titles, brands,
categories, sellers and attribute values, stock and quantities, discounts computed from list prices, and
the checkout URL Stripe returned. Links may only point at Agora's own pages or that checkout URL.

Known names are masked first, so what a product's own title says (even "50% off") is quoted data, not a
claim; but a link is never allowed, and one inside a quoted title is cut out of it. A sentence with an
unsupported claim (a foreign link included) is dropped. When too little is left, the caller's templated reply (built from the tool results
alone) is used instead. `plausible_sentence` is the gate for a small model's small talk, which can
be a loop or a string of symbols without a single false claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from babel.numbers import get_currency_precision, list_currencies

# Result keys whose text values are names the reply may repeat, and whose numbers are figures it may quote.
_NAME_KEYS = frozenset(
    {
        "title",
        "brand",
        "category",
        "seller_name",
        "color",
        "colour",
        "size",
        "query",
        "options",
        "value",
        "own",
        "evidence",
        "seller",
        "what",
        # what the shopper turned down, repeated as "not Harbor Lane": a filter, no claim about a product
        "exclude_brands",
        "exclude_colors",
        "exclude_categories",
        "exclude_values",
    }
)
_FIGURE_KEYS = frozenset({"available", "inventory_quantity", "quantity", "item_count", "count", "stock"})
_DOLLAR_CURRENCIES = ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN")
_SYMBOLS = {
    "US$": ("USD",),
    "CA$": ("CAD",),
    "C$": ("CAD",),
    "A$": ("AUD",),
    "AU$": ("AUD",),
    "NZ$": ("NZD",),
    "$": _DOLLAR_CURRENCIES,
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY", "CNY"),
    "₹": ("INR",),
}
_WORDS = {
    "dollar": _DOLLAR_CURRENCIES,
    "buck": _DOLLAR_CURRENCIES,
    "euro": ("EUR",),
    "pound": ("GBP",),
    "quid": ("GBP",),
    "yen": ("JPY",),
}
_CURRENCY_CODES = frozenset(list_currencies())
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SYMBOL = "|".join(re.escape(symbol) for symbol in sorted(_SYMBOLS, key=len, reverse=True))
_PRICE_PATTERNS = (
    re.compile(rf"(?P<sym>{_SYMBOL})\s?(?P<num>{_NUMBER})"),
    re.compile(rf"(?P<num>\d+,\d{{2}}|{_NUMBER})\s?(?P<sym>€|£)"),
    re.compile(rf"\b(?P<code>[A-Z]{{3}})\s?(?P<num>{_NUMBER})\b"),
    re.compile(rf"\b(?P<num>{_NUMBER})\s?(?P<code>[A-Z]{{3}})\b"),
    re.compile(rf"\b(?P<num>{_NUMBER})\s?(?P<word>dollar|buck|euro|pound|quid|yen)s?\b", re.IGNORECASE),
)
_PERCENT = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_PROMOTION = re.compile(
    r"\b(?:today only|limited[- ]time|flash sale|while (?:stocks?|supplies) lasts?|sale ends|"
    r"hurry|act now|lowest price ever|best price guaranteed)\b",
    re.IGNORECASE,
)
_STOCK = (
    re.compile(
        r"\b(?P<num>\d+)\s+(?:(?:units?|pieces?|items?|pairs?)\s+)?(?:left|in stock|available|remaining)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bonly\s+(?P<num>\d+)\b", re.IGNORECASE),
)
_PRODUCT_ID = re.compile(
    r"\bproduct\s*(?:#|id|no\.?|number)?\s*(?P<num>\d+)\b|#(?P<hash>\d+)\b", re.IGNORECASE
)
_URL = re.compile(
    r"\bhttps?://[^\s<>\"'()\[\]]+|\bwww\.[^\s<>\"'()\[\]]+|"
    r"(?<![\w@./-])(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|shop|store|biz|info|xyz|app|dev|ly|me|us|uk|de|fr|"
    r"ru|cn|top|site|online|example|test|invalid|link|click|pay)\b(?:/[^\s<>\"'()\[\]]*)?",
    re.IGNORECASE,
)
# A name-like run: two or more capitalised words (or model codes such as X200) in a row.
_NAME_TOKEN = r"(?:[A-Z][\w'’&-]*|[A-Z0-9]+-?\d[\w-]*)"
_NAME_RUN = re.compile(rf"{_NAME_TOKEN}(?:\s+{_NAME_TOKEN})+")
# Capitalised words that are not names: they never make a run of capitals a product name.
_PLAIN_WORDS = """
    I I'm I'll I've I'd A An The This That These Those Here There It It's Its Your You You're Yours
    We We're Our My Me Yes No Not Ok OK Okay Sure Great Good Nice Perfect Please Thanks Thank Hi
    Hello Hey Also And Or But So If When Which What Who Why How Would Could Should Shall Will Can Do
    Does Did Is Are Was Let Let's Both Each Every All Any Some None One Two Three Four Five First
    Second Third Last Next Then Now Just Only Sorry Happy Agora Stripe Checkout Cart Total Subtotal
    Price Prices Product Products Brand Category Seller Size Color Colour Stock In Out Of For With
    To From By On At As Sold Available Unavailable Monday Tuesday Wednesday Thursday Friday Saturday
    Sunday USD EUR GBP CAD AUD JPY
"""
_PLAIN_CAPITALS = frozenset(_PLAIN_WORDS.split())
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[^\s])")
_MASK_OPEN, _MASK_CLOSE = "\ue000", "\ue001"


@dataclass
class Facts:
    """What this conversation's tool results establish, gathered by walking their JSON."""

    prices: set[tuple[int, str]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    figures: set[int] = field(default_factory=set)
    percents: set[int] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    product_ids: set[int] = field(default_factory=set)

    @classmethod
    def from_results(cls, results: Iterable[Any]) -> Facts:
        facts = cls()
        for result in results:
            facts.add(result)
        return facts

    def add(self, data: Any) -> None:
        """Take the facts out of one tool result (any JSON-like value; Structs are converted first)."""
        if isinstance(data, msgspec.Struct):
            data = msgspec.to_builtins(data)
        self._walk(data)

    def _walk(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            amount, currency = value.get("amount"), value.get("currency")
            if isinstance(amount, int) and isinstance(currency, str):
                self.prices.add((amount, currency.upper()))
            for name, item in value.items():
                if name == "attributes" and isinstance(item, dict):
                    for attribute in item.values():
                        for text in attribute if isinstance(attribute, list) else [attribute]:
                            self._name(str(text))
                else:
                    self._walk(item, name)
        elif isinstance(value, list | tuple):
            for item in value:
                self._walk(item, key)
        elif isinstance(value, bool):
            return
        elif isinstance(value, str):
            if key in _NAME_KEYS:
                self._name(value)
            elif key == "checkout_url":
                self.urls.add(value)
        elif isinstance(value, int):
            if key in _FIGURE_KEYS:
                self.figures.add(value)
            elif key == "discount_percent":
                self.percents.add(value)
            elif key == "product_id":
                self.product_ids.add(value)

    def _name(self, text: str) -> None:
        text = " ".join(text.split())
        if len(text) >= 2:
            self.names.add(text)
            if " > " in text:  # a category path: each level is a name too
                self.names.update(part.strip() for part in text.split(">") if part.strip())


class Removal(msgspec.Struct, frozen=True):
    """What grounding took out of a reply, and why."""

    kind: str  # price, percent, promotion, stock, product, name, url
    value: str
    sentence: str


class Grounded(msgspec.Struct, frozen=True):
    text: str
    removed: tuple[Removal, ...] = ()
    replaced: bool = False  # the templated reply was used instead of the model's


def ground(text: str, facts: Facts, *, own_url: str, fallback: str) -> Grounded:
    """`text` with every unsupported claim removed, or `fallback` when too little of it survives.

    `own_url` is where Agora's pages are served (links under it are allowed); `fallback` is the templated
    reply built from the tool results, used when the text is empty or lost half its sentences.
    """
    removed: list[Removal] = []
    # A title is masked as the seller wrote it, and as it reads with its links cut (how a model may quote it).
    names = facts.names | {_cut_links(name, facts, own_url, []).strip() for name in facts.names}
    masked, originals = _mask_names(text, names)
    kept_lines: list[str] = []
    total = dropped = 0
    for line in masked.split("\n"):
        kept: list[str] = []
        for sentence in _SENTENCE.split(line.strip()) if line.strip() else []:
            total += 1
            problems = _unsupported(sentence, facts)
            problems += [("url", url) for url in _links(sentence) if not link_allowed(url, facts, own_url)]
            if problems:
                dropped += 1
                shown = _unmask(sentence, originals)
                removed.extend(Removal(kind, value, shown) for kind, value in problems)
            else:
                kept.append(sentence)
        if kept or not line.strip():
            kept_lines.append(" ".join(kept))
    kept_text = "\n".join(kept_lines)
    # Quoted names stay, but never with a link in them.
    quoted = [
        _cut_links(name, facts, own_url, removed).strip()
        if _MASK_OPEN + chr(0xE100 + index) in kept_text
        else name
        for index, name in enumerate(originals)
    ]
    result = re.sub(r"\n{3,}", "\n\n", _unmask(kept_text, quoted)).strip()
    if not result or dropped * 2 > total:
        return Grounded(text=fallback, removed=tuple(removed), replaced=True)
    return Grounded(text=result, removed=tuple(removed))


def link_allowed(url: str, facts: Facts, own_url: str) -> bool:
    """Agora's own pages and the checkout URL Stripe gave this conversation; nothing else."""
    url = url.rstrip(".,;:!?")
    if url in facts.urls:
        return True
    own = own_url.rstrip("/")
    return url == own or url.startswith((own + "/", own + "?"))


def _links(text: str) -> list[str]:
    return [match.group(0).rstrip(".,;:!?") for match in _URL.finditer(text)]


def cut_links(text: str, facts: Facts, own_url: str) -> str:
    """`text` without the links that are not allowed, everything else as it was."""
    return _cut_links(text, facts, own_url, [])


def _cut_links(text: str, facts: Facts, own_url: str, removed: list[Removal]) -> str:
    """`text` without the links that are not allowed (for a name: a title may carry one)."""

    def keep(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:!?")
        if link_allowed(url, facts, own_url):
            return match.group(0)
        removed.append(Removal("url", url, text))
        return match.group(0)[len(url) :]

    if not _URL.search(text):
        return text
    return re.sub(r"[ \t]{2,}", " ", _URL.sub(keep, text)).replace(" .", ".").replace(" ,", ",")


def _mask_names(text: str, names: set[str]) -> tuple[str, list[str]]:
    """Replace known names with placeholders (longest first), so their words are not read as claims."""
    originals: list[str] = []
    candidates = sorted((name for name in names if len(name) >= 3), key=len, reverse=True)
    if not candidates:
        return text, originals
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(name)}(?!\w)" for name in candidates), re.IGNORECASE)

    def placeholder(match: re.Match[str]) -> str:
        originals.append(match.group(0))
        return f"{_MASK_OPEN}{chr(0xE100 + len(originals) - 1)}{_MASK_CLOSE}"

    return pattern.sub(placeholder, text), originals


def _unmask(text: str, originals: list[str]) -> str:
    return re.sub(
        f"{_MASK_OPEN}(.){_MASK_CLOSE}", lambda match: originals[ord(match.group(1)) - 0xE100], text
    )


def _unsupported(sentence: str, facts: Facts) -> list[tuple[str, str]]:
    """The claims in a (masked) sentence that no fact supports, as (kind, text)."""
    problems: list[tuple[str, str]] = []
    for written, amount in _prices_in(sentence):
        if not any((units, currency) in facts.prices for currency, units in amount.items()):
            problems.append(("price", written))
    for match in _PERCENT.finditer(sentence):
        if not _whole(match["num"]) in facts.percents:
            problems.append(("percent", match.group(0)))
    problems.extend(("promotion", match.group(0)) for match in _PROMOTION.finditer(sentence))
    for pattern in _STOCK:
        for match in pattern.finditer(sentence):
            if int(match["num"]) not in facts.figures:
                problems.append(("stock", match.group(0)))
    for match in _PRODUCT_ID.finditer(sentence):
        number = int(match["num"] or match["hash"])
        if number not in facts.product_ids:
            problems.append(("product", match.group(0)))
    problems.extend(("name", name) for name in _unknown_names(sentence))
    return problems


def _prices_in(sentence: str) -> list[tuple[str, dict[str, int]]]:
    """Every currency amount in the sentence, as written and in minor units of each currency it may be."""
    found: list[tuple[str, dict[str, int]]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PRICE_PATTERNS:
        for match in pattern.finditer(sentence):
            if any(start < match.end() and match.start() < end for start, end in taken):
                continue
            groups = match.groupdict()
            if groups.get("sym"):
                currencies = _SYMBOLS[groups["sym"]]
            elif groups.get("code"):
                if not _is_currency(groups["code"]):
                    continue
                currencies = (groups["code"],)
            else:
                currencies = _WORDS[groups["word"].lower()]
            taken.append((match.start(), match.end()))
            found.append((match.group(0), _minor_units(groups["num"], currencies)))
    return found


def _minor_units(number: str, currencies: tuple[str, ...]) -> dict[str, int]:
    """The amount in each currency's minor units; a currency it does not fit exactly is left out."""
    text = number.replace(",", "") if re.search(r",\d{3}\b", number) else number.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return {}
    units: dict[str, int] = {}
    for currency in currencies:
        scaled = value.scaleb(get_currency_precision(currency))
        if scaled == scaled.to_integral_value():
            units[currency] = int(scaled)
    return units


def _is_currency(code: str) -> bool:
    return code in _CURRENCY_CODES


def _whole(number: str) -> int:
    return int(Decimal(number).to_integral_value())


def _unknown_names(sentence: str) -> list[str]:
    """Runs of capitalised words that name no known product, brand, category or seller."""
    unknown = []
    for match in _NAME_RUN.finditer(sentence):
        words = [
            word
            for word in match.group(0).split()
            if word.strip("'’") not in _PLAIN_CAPITALS and any(char.isalpha() for char in word)
        ]
        if len(words) >= 2:
            unknown.append(" ".join(words))
    return unknown


def plausible_sentence(text: str) -> bool:
    """Whether a small model's small talk reads like one or two sentences, not a loop or symbols: mostly
    words, not too long, no word said over and over, ending like a sentence."""
    words = re.findall(r"[A-Za-z']+", text)
    if not 2 <= len(words) <= 40 or not text.rstrip().endswith((".", "!", "?")):
        return False
    letters = sum(char.isalpha() or char.isspace() for char in text)
    repeated = max(words.count(word) for word in set(words)) if words else 0
    return letters >= 0.8 * len(text) and repeated <= max(3, len(words) // 4)


_CALL_SYNTAX = re.compile(r"^\W*(?:function\.|functions\.|<tool_call>|\{\s*\"name\")", re.IGNORECASE)


def readable_reply(text: str, shopper_text: str) -> bool:
    """Whether a model's reply can be shown at all: words, not tool-call syntax ("function.search:"), not the
    shopper's own message echoed back, not a word said over and over."""
    words = re.findall(r"[A-Za-z']+", text)
    if not words or _CALL_SYNTAX.search(text):
        return False
    if " ".join(words).lower() == " ".join(re.findall(r"[A-Za-z']+", shopper_text)).lower():
        return False
    repeated = max(words.count(word) for word in set(words))
    return repeated <= max(6, len(words) // 3)
