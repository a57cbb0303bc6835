"""Which of the products already shown a shopper means: "the second one", "the red one", "both".

`resolve_reference` reads the sentence against the products of the conversation and answers product ids,
without a model: ordinals and positions ("the first two", "the last one", "#3", "1 and 3"), colours and
brands ("the royal blue one", "the Ohmfield one"), model words from the titles ("the Pulse"), prices
("the cheaper one", "the $49.99 one"), groups ("both", "all of them") and the product in focus ("that one",
"it"). An empty list means nothing was referred to, or the reference is ambiguous and the shopper should be
asked (for "both" with five products on screen, or "that one" when nothing is in focus).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from market.assistant.reading.amounts import WORD_NUMBER, parse_number, to_minor_units
from market.assistant.reading.words import stem


class ShownProduct(msgspec.Struct, frozen=True):
    """A product the shopper has seen; `position` is its 1-based place in the list it was shown in."""

    product_id: int
    position: int
    title: str
    brand: str = ""
    color: str | None = None
    price_amount: int | None = None  # minor units of `currency`
    currency: str | None = None
    category: str = ""


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
    "9th": 9, "10th": 10,
}  # fmt: skip
_ORDINAL = r"(?:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")"
_FROM_END = r"(?P<from_end>last|final|bottom|second[\s-]+to[\s-]+last|next[\s-]+to[\s-]+last|penultimate)"
_COUNT = rf"(?P<count>\d{{1,2}}|{WORD_NUMBER})"
_ONE = (
    r"(?:\s+(?:one|ones|item|items|product|products|option|options|result|results|pair|pairs|model|version))?"
)

_GROUP_FIRST = re.compile(rf"\b(?:the\s+)?(?:first|top)\s+{_COUNT}\b", re.IGNORECASE)
_GROUP_LAST = re.compile(rf"\b(?:the\s+)?(?:last|bottom|final)\s+{_COUNT}\b", re.IGNORECASE)
# "last" as a verb is no position: "does it last on a charge?", "will they last long"
_LAST_VERB_BEFORE = (
    r"(?<!\bit\s)(?<!they\s)(?<!does\s)(?<!will\s)(?<!\bto\s)(?<!would\s)(?<!did\s)(?<!that\s)"
)
# "last" ending a question after a noun that is no pointing word: the verb ("does its battery last?").
_ENDS_AS_VERB = re.compile(
    r"\b(?!(?:the|and|or|add|take|remove|just|only|want|get|buy|pick|choose|me|not|but|vs|versus|than|then|"
    r"one|second|third|plus|also|too|to)\b)[a-z]+\s+last$",
    re.IGNORECASE,
)
_FROM_END_ONE = re.compile(
    rf"\b{_LAST_VERB_BEFORE}(?:the\s+)?{_FROM_END}\b(?!\s+(?:long|on|for|through|all|a\s+while)\b)"
    # "the last pair I had fell apart": one the shopper owned, no position in the list
    + rf"(?!{_ONE}\s+(?:i|we|he|she|they)\s+(?:had|have|got|bought|owned|used|wore|tried)\b)"
    + _ONE,
    re.IGNORECASE,
)
_ORDINAL_ONE = re.compile(
    rf"(?<!\ba\s)\b(?:the\s+)?(?P<ordinal>{_ORDINAL})\b(?!\s+(?:time|thing|of\s+all))", re.IGNORECASE
)
# "first" said bare after a thing, ending its clause ("bed first.", "the collar first, then a bed"): first
# of all, not the first product. `|` marks where the word stood.
_FIRST_OF_ALL = re.compile(
    r"(?:^|\s)(?!(?:the|add|take|get|want|buy|pick|choose)\s)[a-z]{3,}\s+\|\s*(?:[.,!;]|$)",
    re.IGNORECASE,
)
_TOP_ONE = re.compile(r"\bthe\s+top\s+(?:one|pick|result|option|choice)\b", re.IGNORECASE)
_NUMBERED = re.compile(
    r"(?:#\s?|\b(?:number|no\.|option|item|product|result|choice|pick)\s*#?\s*)(?P<n>\d{1,2})\b"
    r"|\b(?:number|no\.)\s+(?P<w>one|two|three|four|five|six|seven|eight|nine|ten)\b",  # "number two please"
    re.IGNORECASE,
)
_WORD_PLACE = r"(?:one|two|three|four|five|six)"
_NUMBERS_IN_WORDS = re.compile(
    rf"\b(?:numbers|nos\.?)\s+(?P<a>{_WORD_PLACE})\s*(?:,|and|&|or)\s*(?P<b>{_WORD_PLACE})\b", re.IGNORECASE
)
_NUMBER_LIST = re.compile(
    r"(?<![\w$€£¥.])\d{1,2}(?:\s*(?:,|and|&|or|vs\.?|versus)\s*\d{1,2}\b)+(?![.,]\d)", re.IGNORECASE
)
_BOTH = re.compile(
    r"\b(?:both(?:\s+of\s+(?:them|those|these))?|them\s+both|the\s+two|these\s+two|those\s+two)\b",
    re.IGNORECASE,
)
_ALL = re.compile(
    rf"\b(?:all\s+of\s+(?:them|those|these)|all\s+{_COUNT}|(?:them|these|those)\s+all|every\s+one|"
    rf"each\s+of\s+(?:them|those|these)|all\s+(?:the\s+)?(?:ones|products|items|results)\b)\b",
    re.IGNORECASE,
)
_THEM = re.compile(r"\b(?:them|these|those|they)\b", re.IGNORECASE)
_CHEAPER = re.compile(
    r"\b(?:cheap(?:er|est)|less\s+expensive|least\s+expensive|lower[\s-]+priced|lowest[\s-]+priced|"
    r"(?:more\s+)?affordable|budget\s+(?:one|option|pick))\b",
    re.IGNORECASE,
)
_PRICIER = re.compile(
    r"\b(?:more\s+expensive|most\s+expensive|pricier|priciest|high(?:er|est)[\s-]+priced|premium\s+one|"
    r"dearer|dearest)\b",
    re.IGNORECASE,
)
_PRICE = re.compile(r"(?P<symbol>[$€£¥])\s?(?P<amount>\d[\d,]*(?:\.\d{1,2})?)(?!\d)")
_FOCUS = re.compile(
    r"\b(?:(?:that|this)\s+(?:one|product|item|pair|model)|the\s+one\s+you\s+\w+|it|its|it's|that|this)\b",
    re.IGNORECASE,
)
# Words a title match ignores: they name no product in particular.
_PLAIN_WORDS = frozenset((
    "the", "one", "ones", "and", "for", "with", "that", "this", "add", "cart", "buy", "get", "want", "like",
    "compare", "tell", "more", "about", "which", "what", "please", "show", "size", "color", "colour",
    "version", "model", "pair", "set", "new", "men's", "women's", "unisex",
))  # fmt: skip


def _by_position(shown: Sequence[ShownProduct]) -> list[ShownProduct]:
    """One product per position (the latest shown wins), in position order."""
    latest: dict[int, ShownProduct] = {}
    for product in shown:
        latest[product.position] = product
    return [latest[position] for position in sorted(latest)]


def _count(text: str | None) -> int:
    number = parse_number(text) if text else None
    return int(number) if number is not None and number == number.to_integral_value() else 0


def _mentions(text: str, shown: Sequence[ShownProduct]) -> list[tuple[int, list[int]]]:
    """(where in the text, product ids) for each reference by position, colour, brand, price or number."""
    ordered = _by_position(shown)
    masked = text
    found: list[tuple[int, list[int]]] = []

    def take(match: re.Match[str], products: Sequence[ShownProduct]) -> None:
        nonlocal masked
        masked = masked[: match.start()] + " " * (match.end() - match.start()) + masked[match.end() :]
        if products:
            found.append((match.start(), [product.product_id for product in products]))

    for match in list(_GROUP_FIRST.finditer(masked)):
        if 2 <= (n := _count(match.group("count"))) <= len(ordered):
            take(match, ordered[:n])
    for match in list(_GROUP_LAST.finditer(masked)):
        if 2 <= (n := _count(match.group("count"))) <= len(ordered):
            take(match, ordered[-n:])
    for match in list(_FROM_END_ONE.finditer(masked)):
        if _ENDS_AS_VERB.search(masked[: match.end()]) and re.match(r"\s*(?:[?.!]|$)", masked[match.end() :]):
            continue  # "how long does its battery last?": to last, not the last one
        back = 1 if match.group("from_end").lower() in ("last", "final", "bottom") else 2
        take(match, ordered[-back : len(ordered) - back + 1] if len(ordered) >= back else [])
    for pattern, group in ((_ORDINAL_ONE, "ordinal"), (_NUMBERED, "n")):
        for match in list(pattern.finditer(masked)):
            if (
                group == "ordinal"
                and match.group(0).lower() in ("first", "1st")
                and _FIRST_OF_ALL.search(masked[: match.start()] + "|" + masked[match.end() :])
            ):
                continue  # "bed first. one she won't outgrow": the bed before the rest, no position
            word = (match.group(group) or match.groupdict()["w"]).lower()  # digits, or "number two"
            index = _ORDINALS[word] if group == "ordinal" else _count(word)
            take(match, [ordered[index - 1]] if 1 <= index <= len(ordered) else [])
    for match in list(_NUMBERS_IN_WORDS.finditer(masked)):  # "of numbers two and three"
        indexes = [_count(match["a"]), _count(match["b"])]
        if all(1 <= index <= len(ordered) for index in indexes):
            take(match, [ordered[index - 1] for index in indexes])
    for match in list(_TOP_ONE.finditer(masked)):
        take(match, ordered[:1])
    for match in list(_NUMBER_LIST.finditer(masked)):
        if re.search(r"\b(?:size|sizes|sz)\s*$", masked[: match.start()], re.IGNORECASE):
            continue
        indexes = [int(n) for n in re.findall(r"\d+", match.group(0))]
        if all(1 <= index <= len(ordered) for index in indexes):
            take(match, [ordered[index - 1] for index in indexes])
    for match in list(_PRICE.finditer(masked)):
        take(match, _priced_at(match.group("amount"), ordered))
    for match in list(_BOTH.finditer(masked)):
        take(match, ordered if len(ordered) == 2 else [])
    for match in list(_ALL.finditer(masked)):
        n = _count(match.group("count"))
        take(match, ordered if n in (0, len(ordered)) else [])
    # "which is cheaper, the first or the second?": with positions named, "cheaper" asks, it does not point
    found.extend(_attribute_mentions(masked, ordered, by_price=not found))
    return found


def _attribute_mentions(
    text: str, ordered: list[ShownProduct], *, by_price: bool = True
) -> list[tuple[int, list[int]]]:
    """Colours ("the red one") and brands ("the Ohmfield one"), narrowed by "cheaper"/"pricier" if said."""
    found: list[tuple[int, list[int]]] = []
    colors = {" ".join(p.color.lower().split()) for p in ordered if p.color}
    for color in sorted(colors, key=len, reverse=True):
        spelled = re.escape(color).replace("grey", "gr[ae]y").replace(r"\ ", r"\s+")
        pattern = (
            rf"(?:\bthe\s+(?:\w+\s+)?{spelled}\b|\b{spelled}\s+(?:one|ones|pair|version|model|option)\b)"
        )
        for match in re.finditer(pattern, text, re.IGNORECASE):
            text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]
            matching = [p for p in ordered if p.color and " ".join(p.color.lower().split()) == color]
            found.append((match.start(), [p.product_id for p in matching]))
    brands = {p.brand.lower(): p.brand for p in ordered if p.brand}
    for brand in sorted(brands, key=len, reverse=True):
        spelled = r"\s+".join(r"(?:&|and)" if w == "&" else re.escape(w) for w in brand.split())
        for match in re.finditer(rf"(?<![\w-]){spelled}(?![\w-])", text, re.IGNORECASE):
            text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]
            found.append((match.start(), [p.product_id for p in ordered if p.brand.lower() == brand]))
    by_price = by_price and (_CHEAPER.search(text) or _PRICIER.search(text))
    if by_price:
        pool = [p for p in ordered if any(p.product_id in ids for _, ids in found)] or ordered
        found = [
            (min([by_price.start(), *(at for at, _ in found)]), _cheapest(pool, by_price.re is _PRICIER))
        ]
    return found


def _cheapest(products: Sequence[ShownProduct], reverse: bool) -> list[int]:
    """The cheapest (or dearest) product, comparing only prices in the currency most of them are in."""
    priced = [p for p in products if p.price_amount is not None]
    if len(priced) < 2:
        return []
    currencies = [p.currency for p in priced]
    common = max(currencies, key=currencies.count)
    same = [p for p in priced if p.currency == common]
    best = (
        max(same, key=lambda p: p.price_amount or 0)
        if reverse
        else min(same, key=lambda p: p.price_amount or 0)
    )
    return [best.product_id]


def _priced_at(amount: str, products: Sequence[ShownProduct]) -> list[ShownProduct]:
    """The product priced at the amount said, or the nearest within a tenth ("the $50 one" for 49.99)."""
    value = parse_number(amount)
    priced = [p for p in products if p.price_amount is not None and p.currency]
    if value is None or not priced:
        return []

    def distance(product: ShownProduct) -> int:
        return abs(to_minor_units(value, product.currency or "USD") - (product.price_amount or 0))

    nearest = min(priced, key=distance)
    target = to_minor_units(value, nearest.currency or "USD")
    return [nearest] if distance(nearest) <= max(1, target) * Decimal("0.1") else []


def _title_words(text: str, ordered: list[ShownProduct]) -> list[int]:
    """Products whose titles share the most distinctive words with the text ("the Pulse", "the trail ones")."""
    words = {w for w in re.findall(r"[\w'-]+", text.lower()) if len(w) > 2 and w not in _PLAIN_WORDS}
    titles = {p.product_id: set(re.findall(r"[\w'-]+", p.title.lower())) for p in ordered}
    scores = {}
    for product_id, title in titles.items():
        telling = {w for w in words & title if not all(w in other for other in titles.values())}
        scores[product_id] = len(telling)
    best = max(scores.values(), default=0)
    return [product_id for product_id, score in scores.items() if best and score == best]


def resolve_reference(text: str, shown: Sequence[ShownProduct], *, focus: int | None = None) -> list[int]:
    """The ids of the shown products `text` refers to, in the order it mentions them ([] if none or unclear).

    `shown` is what the shopper can refer to, usually the latest list of results with their positions.
    `focus` is the product most recently talked about (details asked, added to the cart), which "that one"
    and "it" mean; without it they mean the only product shown, or nothing when several are.
    """
    if not shown or not text.strip():
        return []
    ordered = _by_position(shown)
    mentions = _mentions(text, shown)
    if not mentions and len(ordered) > 1 and (ids := _title_words(text, ordered)):
        mentions = [(0, ids)]
    if not mentions and _THEM.search(text):
        mentions = [(0, [p.product_id for p in ordered])]
    if not mentions and _FOCUS.search(text):
        known = {p.product_id for p in shown}
        if focus is not None and focus in known:
            mentions = [(0, [focus])]
        elif len(ordered) == 1:
            mentions = [(0, [ordered[0].product_id])]
    resolved: list[int] = []
    for _, ids in sorted(mentions, key=lambda mention: mention[0]):
        resolved.extend(product_id for product_id in ids if product_id not in resolved)
    return resolved


# "the first fineliner set and the 2nd pen": an ordinal with the kind it counts among
_ORDINAL_OF_KIND = re.compile(
    rf"\b(?P<ordinal>{_ORDINAL})\s+(?P<kind>[a-z][\w'-]*(?:\s+(?!and\b|from\b|to\b|in\b|too\b)[a-z][\w'-]*)?)",
    re.IGNORECASE,
)
_NOT_A_KIND = frozenset({"one", "ones", "set", "sets", "pair", "pairs", "item", "items", "from", "earlier", "before"})


def resolve_across_lists(text: str, lists: Sequence[Sequence[ShownProduct]]) -> list[int]:
    """Products counted within the kinds they are named by, each in the latest list (of `lists`, latest
    first) whose titles have that kind: "add the first collar and the 2nd pen" after a list of collars, then
    one of pens. [] unless two or more are named so and every one is found."""
    found: list[int] = []
    mentions = list(_ORDINAL_OF_KIND.finditer(text))
    if len(mentions) < 2:
        return []
    for mention in mentions:
        kind = [w for w in mention["kind"].lower().split() if w not in _NOT_A_KIND]
        place = _ORDINALS[mention["ordinal"].lower()]
        listed = next((shown for shown in lists if kind and titles_have(shown, kind)), None)
        ordered = _by_position(listed) if listed else []
        if not 0 < place <= len(ordered):
            return []
        found.append(ordered[place - 1].product_id)
    return list(dict.fromkeys(found))


def titles_have(shown: Sequence[ShownProduct], words: Sequence[str]) -> bool:
    """Whether the titles of a list shown name one of `words` ("mixers": a Stand Mixer)."""
    stems = {stem(word) for word in words}
    return any(
        stem(word) in stems for product in shown for word in re.findall(r"[\w'-]+", product.title.lower())
    )
