"""What a shopper's sentence asks for, read without a model: budget, currency, quantity, size, colours,
brand, category, and the words left over for search.

The reading is deterministic and cheap, so the agent can trust it to check (or replace) what a language
model proposes: "under $120" is always `budget_max=12000`, whatever the model thought. Budgets are read by
`market.assistant.reading.amounts` (exact integers, never a float); the other words come from a `Vocabulary`, built
from the demo catalog's word lists or from a live catalog's products.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec

from market.assistant.reading.amounts import UNIT, WORD_NUMBER, parse_number, read_budget
from market.assistant.reading.vocabulary import Vocabulary
from market.assistant.reading.words import LEAVING_OUT, singular

__all__ = ["Slots", "Vocabulary", "size_alternatives", "understand"]


class Slots(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What one utterance asks for. Budgets are integer minor units of `currency`, or of the caller's
    default currency when the text names none."""

    query: str = ""  # the words left for search once budget, quantity and filler phrases are gone
    budget_min: int | None = None
    budget_max: int | None = None
    currency: str | None = None  # ISO 4217, only when the text names one (symbol, word or code)
    quantity: int | None = None
    size: str | None = None  # as the vocabulary spells it; see `size_alternatives`
    colors: tuple[str, ...] = ()
    exclude_colors: tuple[str, ...] = ()  # "not black", "anything but red"
    brand: str | None = None
    exclude_brands: tuple[str, ...] = ()  # "nothing from Loamstep", "ugh not Auralis again"
    refuses_shown_brand: bool = False  # "not them, I don't like that brand": the brand of what was shown
    category: str | None = None  # a category path prefix, e.g. "Shoes > Running": a hint, not a certainty
    exclude_categories: tuple[str, ...] = ()  # "no kids' stuff": category paths
    dismissed: tuple[str, ...] = ()  # category paths set aside: "never mind the jacket, show me gloves"

    @property
    def has_budget(self) -> bool:
        return self.budget_min is not None or self.budget_max is not None


class _Text:
    """The utterance with the spans already read masked out, so each later pattern sees only what is left."""

    def __init__(self, text: str) -> None:
        self.masked = text

    def take(self, start: int, end: int) -> None:
        self.masked = self.masked[:start] + " " * (end - start) + self.masked[end:]

    def find(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        return (match for match in pattern.finditer(self.masked) if match.group(0).strip())


# --- quantity ------------------------------------------------------------------------------------------

_Q = rf"(?P<n>(?<![\d.,])\d{{1,2}}(?!\d|[.,]\d)|{WORD_NUMBER})"
_ORDERING = (
    r"(?:add|buy|get|order|take|want|need|grab|put|make\s+(?:it|that|them)(?:\s+(?:just|only))?|change\s+(?:it\s+)?to|i'?ll\s+take|"
    r"give\s+me)"
)
_QUANTITY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), remove)
    for pattern, remove in (
        (r"\b(?P<n>\d{1,2})\s?x\b(?!\s?\d)", "all"),
        (r"(?<![\w])x\s?(?P<n>\d{1,2})\b", "all"),
        (rf"\b(?:qty|quantity)\s*(?:of|:|=)?\s*{_Q}", "all"),
        (r"\b(?:a\s+)?couple(?:\s+of)?\b", "all"),
        (r"\ba\s+pair\s+of\b", "all"),
        (rf"\b{_Q}\s+(?:pairs?|units?|items?|sets?|boxes|bottles|copies)(?:\s+of)?\b", "all"),
        (rf"\b{_Q}\s+(?:pieces\s+|pcs\s+)?of\s+(?=(?:them|those|these|it|that|each|the|my)\b)", "all"),
        (rf"\b{_ORDERING}\s+{_Q}(?!\s*(?:{UNIT}|-))", "n"),
        (rf"\b{_Q}\s+(?!(?:{UNIT}|in\b|of\b|or\b|and\b|to\b|x\b|-))(?=[a-z])", "n"),
    )
)  # fmt: skip
# The last pattern ("2 t-shirts") reads a bare count; these words before or after it say it is not one.
_NOT_A_COUNT_BEFORE = re.compile(
    r"(?:size|sz|for|of|top|first|last|the|number|no\.?|#|option|item|(?:wo)?men'?s|ladies|uk|eu)\s*$",
    re.IGNORECASE,
)
_NOT_A_COUNT_AFTER = re.compile(
    r"\s*(?:options?|results?|choices?|ideas?|alternatives?|suggestions?|more)\b", re.IGNORECASE
)


def _read_quantity(text: _Text) -> int | None:
    for index, (pattern, remove) in enumerate(_QUANTITY_PATTERNS):
        for match in text.find(pattern):
            word = match.group(0).lower()
            if "couple" in word:
                value = 2
            elif "pair of" in word and "n" not in match.groupdict():
                value = 1
            else:
                number = parse_number(match.group("n"))
                value = int(number) if number is not None and number == number.to_integral_value() else 0
            if index == len(_QUANTITY_PATTERNS) - 1 and (
                not 2 <= value <= 20
                or _NOT_A_COUNT_BEFORE.search(text.masked[: match.start()])
                or _NOT_A_COUNT_AFTER.match(text.masked[match.end() :])
            ):
                continue
            if not 1 <= value <= 999:
                continue
            start, end = (match.start(), match.end()) if remove == "all" else match.span("n")
            text.take(start, end)
            return value
    return None


# --- size, colour, brand, category ---------------------------------------------------------------------

_SIZE_ALIASES = {
    "extra small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L",
    "extra large": "XL", "x-large": "XL", "xx-large": "XXL", "2xl": "XXL",
}  # fmt: skip


def size_alternatives(size: str) -> tuple[str, ...]:
    """A size and its other spellings ("medium" and "M"): a search filter may accept any of them."""
    lowered = size.lower()
    letters = {alias.lower(): letter for alias, letter in _SIZE_ALIASES.items()}
    words = {letter.lower(): alias for alias, letter in _SIZE_ALIASES.items() if " " not in alias}
    words |= {"xl": "extra large", "xs": "extra small"}
    other = letters.get(lowered) or words.get(lowered)
    return (size, other) if other else (size,)


def _read_size(text: _Text, vocabulary: Vocabulary) -> str | None:
    for pattern in vocabulary.size_patterns:
        for match in text.find(pattern):
            said = " ".join(match.group("s").lower().split())
            known = vocabulary.size_by_word.get(said)
            size = known or vocabulary.size_by_word.get(_SIZE_ALIASES.get(said, "").lower())
            if size:
                text.take(match.start(), match.end())  # "size S" is a filter, not search words
                return size
    for match in text.find(_EU_SHOE_SIZE):  # "size 38": the search finds the US sizes it is
        text.take(match.start(), match.end())
        return match.group("s")
    return None


_EU_SHOE_SIZE = re.compile(r"\b(?:size|sz|eu)\s*:?\s*(?P<s>3[4-9]|4\d|50)(?![\w]|[.,]\d)", re.IGNORECASE)


_NEGATION = re.compile(
    r"(?:\b(?:anything|everything|all|any)(?:\s+(?:other\s+)?(?:colou?rs?|shades?))?\s+(?:but|except|other\s+than)|\bnot|\bno|\bnon|\bwithout|\bexcept|"
    r"\bexcluding|\bbut\s+not|\bother\s+than|\bnothing|\bnone|\bnever|\bavoid|\bskip|\bhate|\bdislike|"
    rf"{LEAVING_OUT}|"
    r"\bisn'?t|\baren'?t|\bpass\s+on|\bsteer\s+clear\s+of|\b(?:sick|tired)\s+of|\bhad\s+enough\s+of|"
    r"\b(?:don'?t|do\s+not|doesn'?t|won'?t)\s+(?:want|like|need|care\s+for|trust)|"
    r"\bnot\s+(?:(?:too|very|that|really|so)\s+)?(?:keen|fussed|sold|big|into|(?:a\s+)?(?:big\s+)?fan)(?:\s+(?:on|of))?|"
    r"\bcan'?t\s+stand)"
    r"\s+(?:(?:in|from|by|made\s+by|any|anything|anymore|of|the|a|an|more|those|these|stuff)\s+)*$",
    re.IGNORECASE,
)
# "never mind the jacket", "forget the tents": a category set aside, neither wanted now nor excluded.
_NEGATED_NEAR = re.compile(r"\b(?:not|no|without)\s+(?:the\s+)?(?:[a-z'-]+\s+){0,2}$", re.IGNORECASE)
# "except Loamstep or Harbor Lane", "nothing orange or red": a list goes on being turned down.
_LIST_GOES_ON = re.compile(r"^\s*(?:,\s*)?(?:or|and|nor|,|/)\s*(?:(?:the|from|by|any)\s+)?$", re.IGNORECASE)
_DISMISSAL = re.compile(
    r"(?:never\s*mind|forget(?:\s+about)?|scratch|enough\s+of|done\s+with|instead\s+of|rather\s+than|no\s+more)"
    r"\s+(?:(?:the|those|these|that|this|my|about|all|with)\s+)*$",
    re.IGNORECASE,
)
# A brand turned down without its name, after products were shown.
_SHOWN_BRAND_REFUSED = re.compile(
    r"\b(?:not|no|don'?t\s+(?:like|want)|do\s+not\s+(?:like|want)|hate|dislike|avoid)\s+"
    r"(?:them|those|that\s+brand|this\s+brand|these\s+brands?|those\s+brands?|the\s+brand|that\s+one'?s?\s+brand)\b"
    r"|\b(?:other|another|different)\s+brands?\b",
    re.IGNORECASE,
)


def _read_colors(text: _Text, vocabulary: Vocabulary) -> tuple[tuple[str, ...], tuple[str, ...]]:
    wanted: list[str] = []
    excluded: list[str] = []
    if vocabulary.color_pattern is None:
        return (), ()
    original = text.masked
    last_excluded_end = None
    for match in list(text.find(vocabulary.color_pattern)):
        said = " ".join(match.group(0).lower().split())
        color = vocabulary.color_by_word[said]
        family = vocabulary.color_families.get(said, (color,))  # "green": forest green, sage green
        before = text.masked[max(0, match.start() - 20) : match.start()]
        continues = last_excluded_end is not None and _LIST_GOES_ON.match(
            original[last_excluded_end : match.start()]
        )
        negation = _NEGATION.search(before)
        if negation or continues:
            excluded.extend(family)
            start = match.start() - len(before) + negation.start() if negation else match.start()
            text.take(start, match.end())
            last_excluded_end = match.end()
        else:
            wanted.extend(member for member in family if member not in wanted)
    # "not black - everything I own is black": a colour turned down anywhere is not wanted
    wanted = [color for color in wanted if color not in excluded]
    return tuple(wanted), tuple(dict.fromkeys(excluded))


def _read_brands(text: _Text, vocabulary: Vocabulary) -> tuple[str | None, tuple[str, ...]]:
    """The brand wanted (the first not negated) and the brands turned down (masked out of the text)."""
    if vocabulary.brand_pattern is None:
        return None, ()
    wanted, excluded = None, []
    original, last_excluded_end = text.masked, None
    for match in list(text.find(vocabulary.brand_pattern)):
        brand = vocabulary.brand_by_word[_brand_key(match.group(0))]
        negation = _NEGATION.search(text.masked[max(0, match.start() - 40) : match.start()])
        continues = last_excluded_end is not None and _LIST_GOES_ON.match(
            original[last_excluded_end : match.start()]
        )
        if negation or continues:
            excluded.append(brand)
            start = match.start() - (min(match.start(), 40) - negation.start()) if negation else match.start()
            text.take(start, match.end())
            last_excluded_end = match.end()
        elif wanted is None and _brand_key(match.group(0)) not in vocabulary.short_brand_names:
            # (a brand's first word alone names it only where it is turned down: "anything except Veloce")
            wanted = brand  # its name stays among the search words: titles often carry it
    return wanted, tuple(dict.fromkeys(excluded))


def _brand_key(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").split())


def _read_categories(
    text: _Text, vocabulary: Vocabulary
) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The category wanted (the longest term not negated or set aside), the categories excluded ("no
    tents") and those set aside ("never mind the jacket"). Excluded and set-aside terms are masked out."""
    if vocabulary.category_pattern is None:
        return None, (), ()
    wanted, excluded, dismissed = [], [], []
    for match in list(text.find(vocabulary.category_pattern)):
        path = vocabulary.category_by_term[" ".join(match.group(0).lower().split())]
        before = text.masked[max(0, match.start() - 40) : match.start()]
        if (found := _DISMISSAL.search(before)) is not None:
            dismissed.append(path)
            text.take(match.start() - (len(before) - found.start()), match.end())
        elif (found := _NEGATION.search(before) or _NEGATED_NEAR.search(before)) is not None:
            excluded.append(path)
            text.take(match.start() - (len(before) - found.start()), match.end())
        else:
            wanted.append(match)
    category = None
    if wanted:  # the most specific category named ("kitchen knives": cutlery), then the longest term

        def path_of(match: re.Match[str]) -> str:
            return vocabulary.category_by_term[" ".join(match.group(0).lower().split())]

        def specific(match: re.Match[str]) -> tuple[int, int]:
            return path_of(match).count(">"), len(match.group(0))

        # "a sheet set for a queen bed": what the thing is for names another category (dog beds) only
        # when it narrows the thing itself ("shoes for running": running shoes).
        complements = [
            match
            for match in wanted
            if _FOR_WHAT.search(text.masked[max(0, match.start() - 40) : match.start()])
        ]
        heads = [match for match in wanted if match not in complements]
        # Among heads equally specific, one that names products by their title's head noun, then the last
        # named: "a camping lantern" is a lantern, and so is "a lantern for camping" put word for word
        # ("backpack hiking", from "mochila para hacer senderismo").
        # (the titles' head nouns; a vocabulary without titles has the product nouns' last words)
        title_nouns = vocabulary.heads or {singular(noun.split()[-1]) for noun in vocabulary.nouns}

        def named(match: re.Match[str]) -> bool:
            return singular(match.group(0).lower().split()[-1]) in title_nouns

        category = (
            path_of(max(heads, key=lambda match: (specific(match)[0], named(match), match.start())))
            if heads
            else None
        )
        category = category or path_of(max(wanted, key=specific))
        narrower = [match for match in complements if path_of(match).startswith(category + " > ")]
        if narrower:
            category = path_of(max(narrower, key=specific))
        chosen = [match.group(0) for match in wanted if path_of(match) == category]
        category = _said_apart(text.masked, chosen, vocabulary) or category
    # "board games, no card games": a kind turned down within the department of the kind asked for turns
    # the kind down, not the department ("games" names all toys and games)
    excluded = [path for path in excluded if not (category and (category + " > ").startswith(path + " > "))]
    return category, tuple(dict.fromkeys(excluded)), tuple(dict.fromkeys(dismissed))


def _said_apart(text: str, named: list[str], vocabulary: Vocabulary) -> str | None:
    """The category of a longer term whose words the message says apart, ending in a word it named: "the
    baby's due and we haven't got bottles" names baby bottles (Baby > Feeding), not water bottles."""
    said = {singular(word) for word in re.findall(r"[a-z]+", re.sub(r"'s\b", "", text.lower()))}
    lasts = {singular(word.lower().split()[-1]) for word in named if len(word.split()) == 1}
    for term, path in vocabulary.category_terms.items():
        words = [singular(word) for word in term.split()]
        if len(words) == 2 and words[-1] in lasts and all(word in said for word in words):
            return path
    return None


_FOR_WHAT = re.compile(
    r"(?<!looking )(?<!searching )(?<!shopping )(?<!hunting )(?<!ask )(?<!asking )"  # "looking for a tent"
    r"\b(?:for|fits?|fitting|in|into|inside|on|onto)\s+(?:(?:a|an|the|my|our|his|her|their|your|some|two|twin)\s+)?"
    r"(?:[\w'-]+\s+){0,2}$",
    re.IGNORECASE,
)


# --- what is left for search ---------------------------------------------------------------------------

# Conversational openings that carry no search words: "hi, I'm looking for", "can you show me", "any".
_OPENINGS = (
    r"(?:hi|hello|hey|ok(?:ay)?|so|well|um+|uh+|please|pls|plz|now|also|and|great|cool|thanks)\b[\s,!.]*",
    r"i(?:'m|\s+am)\s+(?:also\s+)?(?:looking|searching|shopping)\s+for",
    r"i(?:'d|\s+would)\s+(?:also\s+)?like(?:\s+to\s+(?:buy|get|find|see|order))?",
    r"(?:i\s+)?(?:also\s+|really\s+|just\s+|still\s+)?(?:want|need)(?:\s+to\s+(?:buy|get|find|order))?",
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:show|find|get|recommend|suggest|look\s+for)(?:\s+me)?",
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:search|look)\s+for",
    r"(?:show|find|get|give)\s+me",
    r"(?:do|does)\s+(?:you|agora|anyone)\s+(?:have|sell|carry|stock)",
    r"(?:are|is)\s+there(?:\s+any|\s+an?)?",
    r"what\s+(?:kind|sort|type)s?\s+of",
    r"got(?:\s+any(?:thing)?)?",
    r"any(?:thing)?|some(?:thing)?|an?|for|on|with|looking\s+for|search(?:\s+for)?|recommend(?:\s+me)?|suggest",
    r"what\s+about|how\s+about",
)
_OPENERS = re.compile(r"^(?:" + "|".join(_OPENINGS) + r")\b\s*", re.IGNORECASE)
_CLOSERS = re.compile(r"\s+(?:do|does)\s+(?:you|agora)\s+(?:have|sell|carry|stock)\s*[?.!]*$", re.IGNORECASE)
_POLITE = re.compile(
    r"\b(?:please|pls|plz|thanks|thank\s+you|ugh|meh|hmm+|again|anymore|either|anything|instead|"
    r"i\s+(?:really\s+)?(?:don'?t|do\s+not)\s+(?:like|want)|i\s+hate)\b",
    re.IGNORECASE,
)
_DANGLING = re.compile(
    r"(?:[\s,.!?;:]+|\b(?:for|and|but|with|at|that|which|in|or|of|the|a|an|is|to|i)\b)+$", re.IGNORECASE
)


def _leftover_query(text: _Text) -> str:
    query = _POLITE.sub(" ", text.masked)
    query = " ".join(query.split())
    previous = None
    while previous != query:
        previous = query
        query = _OPENERS.sub("", query.strip(" ,.!?;:")).strip()
        query = _CLOSERS.sub("", query).strip()
        query = _DANGLING.sub("", query).strip()
    return query.strip(" ,.!?;:")


# --- the whole reading ---------------------------------------------------------------------------------


def understand(text: str, vocabulary: Vocabulary, *, currency_default: str) -> Slots:
    """Reads budget, currency, quantity, size, colours, brand, category and the search words of `text`."""
    budget = read_budget(" ".join(text.split()), currency_default=currency_default)
    reading = _Text(budget.rest)
    quantity = _read_quantity(reading)
    colors, excluded = _read_colors(reading, vocabulary)
    refuses_shown_brand = False
    for match in list(reading.find(_SHOWN_BRAND_REFUSED)):
        refuses_shown_brand = True
        reading.take(match.start(), match.end())
    brand, exclude_brands = _read_brands(reading, vocabulary)
    size = _read_size(reading, vocabulary)
    category, exclude_categories, dismissed = _read_categories(reading, vocabulary)
    return Slots(
        size=size,
        colors=colors,
        exclude_colors=excluded,
        brand=brand,
        exclude_brands=exclude_brands,
        refuses_shown_brand=refuses_shown_brand and not exclude_brands,
        category=category,
        exclude_categories=exclude_categories,
        dismissed=dismissed,
        budget_min=budget.budget_min,
        budget_max=budget.budget_max,
        currency=budget.currency,
        quantity=quantity,
        query=_leftover_query(reading),
    )
