"""The thing a message asks for, when it asks for one: the words after a request ("do you sell
snowboards", "I'm after a tent that sleeps four", "i need a present for my sister"), up to where the
request's qualifiers begin; or the whole message when it is a bare noun phrase ("snowboards?", "a car
battery"). Words outside that phrase ("everyone keeps pushing them", "bit steep") never name a product.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FRAME = re.compile(
    r"\b(?<!n't\s)(?<!not\s)(?:need|needs|needed|want|wants|wanted|would\s+like|'d\s+like|like\s+to\s+(?:buy|get|see)|"
    r"looking\s+(?:for|at)|look\s+(?:for|at)|searching\s+for|search\s+for|shopping\s+for|i'?m\s+after|"
    r"in\s+the\s+market\s+for|(?:do|does)\s+(?:you|y'?all|agora|anyone|anybody|any\s+sellers?)(?:\s+(?:guys|all|folks|lot))?"
    r"(?:\s+(?:on\s+here|here|on\s+agora|round\s+here))?"  # "does anyone on here sell microwaves"
    r"(?:\s+(?:at\s+least|even|also|still|actually|happen\s+to))?\s+(?:have|sell|carry|stock|do)|can\s+i\s+(?:order|buy|get)|"
    r"have\s+you\s+got|you\s+got|(?<!'ve\s)(?<!\bi\s)(?<!\bwe\s)(?<!\bthey\s)got\s+(?:any|an?)|are\s+there\s+any|is\s+there\s+an?|show\s+(?:me|us)|find\s+(?:me|us)|"
    r"get\s+(?:me|us)|buy(?:ing)?|order(?:ing)?|recommend|suggest|what\s+about|how\s+about|instead|"
    r"where(?:'?s|\s+is|\s+are|\s+do\s+you\s+keep)\s+(?:your|ur|the|all\s+the))\b",  # "wheres ur dog food"
    re.IGNORECASE,
)
_CUT = re.compile(  # a word joined by a hyphen is part of a name: "over-ear headphones", "all-in-one"
    r"(?<![\w-])(?:for|with|w/|under|below|over|above|from|by|that|which|who|to|as|like|but|because|since|so|if|when|"
    r"where|and|or|in|on|at|near|without|except|please|pls|plz|first|too|then|now|today|again|instead|more)(?![\w-])|"
    r"[,.;!?()\[\]]|:(?!\d)",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:\s*(?:a|an|some|any|the|me|us|new|good|nice|decent|cheap|more|other|of|one|few)\b)+", re.IGNORECASE
)
_QUESTION_WORD = re.compile(
    r"^\s*(?:what|what's|whats|how|who|why|where|when|which|is|are|was|were|can|could|would|will|do|does|did|"
    r"tell|write|translate|give|make|explain|calculate|solve|know|help)\b",
    re.IGNORECASE,
)
_TO_VERB = re.compile(r"^\s*to\s+(?:learn|play|buy|get|find|try|have|own|start|take\s+up)\s+", re.IGNORECASE)
_BARE_WORDS = 4  # a message this short with no request in it may be the thing itself: "snowboards?"


# A question whether the thing is sold at all: what follows it is a product by the shopper's own framing,
# whatever else English uses the word for ("do you sell calculators", "would ye have any Lego").
_ASKS_STOCK = re.compile(
    r"\b(?:(?:do|does|would)\s+(?:you|ye|ya|y'?all|agora|anyone)(?:\s+(?:guys|all|folks|lot))?(?:\s+\w+){0,2}\s+"
    r"(?:have|sell|stock|carry)|have\s+you\s+got|got\s+any)\b",
    re.IGNORECASE,
)


def asks_if_sold(text: str) -> bool:
    """Whether `text` asks whether something is sold ("do you stock golf clubs?")."""
    return _ASKS_STOCK.search(text) is not None


def asks(text: str) -> bool:
    """Whether `text` makes a request ("do you sell", "I need", "show me")."""
    return _FRAME.search(text) is not None


def requested(text: str, kinds: Sequence[str] = (), unsold: Sequence[str] = ()) -> str | None:
    """The words naming what is asked for, or None when the message asks for nothing in particular.
    `kinds`: the words of the message that name a kind of product; a message with no request in it that
    says one asks for it, in the words around it: "frying pan with no nonstick coating, don't trust the
    stuff" asks for a frying pan. `unsold`: words that may name a product the catalog lacks; one opening
    such a message names what it asks for too."""
    matches = list(_FRAME.finditer(text))
    # The last request naming something wins: "i'm looking for something, do you sell snowboards"; but "I want
    # the Sony WH-1000XM5. Do you stock those?" asks for the Sony.
    phrases = [_phrase(_TO_VERB.sub("", text[match.end() :], count=1)) for match in reversed(matches)]
    named = {kind.lower() for kind in kinds}
    for phrase in phrases:  # "looking for a dutch oven, want to start doing no-knead bread": the dutch oven
        if named & _naming_words(phrase):
            return phrase
    # A bare noun phrase opening the message, as its own question or clause ("usb-c chargers? got a ...")
    opening = text[: matches[0].start()].strip() if matches else ""
    bare = opening.endswith(("?", ",", "!", ".")) and len(opening.split()) <= _BARE_WORDS
    if bare and phrases[0].lower() not in _SOME and named & {w.lower() for w in re.findall(r"[\w'-]+", opening)}:
        # "usb-c chargers? got a laptop and a phone to keep alive": the thing named first, not what they own
        return _clause_naming(opening, kinds, unsold) or phrases[0] or None
    for phrase in phrases:  # "wants to learn guitar": guitar
        if phrase.lower() not in _PRONOUNS:
            return phrase
    if phrases:
        return phrases[0] or None
    words = re.findall(r"[\w'-]+", text)
    if not words or _QUESTION_WORD.match(text):
        return None
    if len(words) > _BARE_WORDS:
        return _clause_naming(text, kinds, unsold)
    return _phrase(text) or None


def _naming_words(phrase: str) -> set[str]:
    """The phrase's words, but for a container or measure of something else ("a 15kg bag of grain free")."""
    return {match[1].lower() for match in re.finditer(r"\b([\w'-]+)\b(?!\s+of\b)", phrase) if match[1]}


def _phrase(rest: str) -> str:
    """The words up to where the request's qualifiers begin, without leading articles or the set they come
    in ("a set of golf clubs": golf clubs)."""
    phrase = _LEADING.sub("", _CUT.split(rest, maxsplit=1)[0].strip()).strip(" -'\"")
    return _CONTAINER.sub("", phrase)


_CONTAINER = re.compile(r"^(?:set|pair|pack|box|bunch)\s+of\s+(?=\S)", re.IGNORECASE)


_PRONOUNS = frozenset({"", "it", "them", "that", "those", "these", "this", "one", "ones"})
_SOME = _PRONOUNS | {"some", "any", "something", "anything"}  # "... could you show me some?"


def _clause_naming(text: str, kinds: Sequence[str], opening: Sequence[str]) -> str | None:
    """The first stretch of `text` between qualifiers that has one of `kinds`; with none, the opening
    stretch if it has one of `opening` ("Size 3 nappies please": nappies)."""
    phrases = [_LEADING.sub("", (part or "").strip()).strip(" -'\"") for part in _CUT.split(text)]
    phrases = [phrase for phrase in phrases if phrase]
    wanted = {kind.lower() for kind in kinds} or {word.lower() for word in opening}
    for index, phrase in enumerate(phrases):
        said = {word.lower() for word in re.findall(r"[\w'-]+", phrase)}
        if said & wanted and (kinds or index == 0):
            return _up_to_last(phrase, {word.lower() for word in (*kinds, *opening)})
    return None


def _up_to_last(phrase: str, naming: set[str]) -> str:
    """`phrase` up to its last word that names the thing: "the garden every chance she gets" -> "the
    garden"."""
    words = phrase.split()
    named = {word.lower() for word in naming}
    last = max(
        (index for index, word in enumerate(words) if word.lower().strip(",.!?") in named), default=None
    )
    return " ".join(words[: last + 1]) if last is not None else phrase
