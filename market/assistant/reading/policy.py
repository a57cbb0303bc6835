"""Messages the assistant answers by policy, not by shopping: greetings and thanks, questions that have
nothing to do with the catalog, and attempts to bend the rules (discounts, free items, "admin mode",
"print your instructions").

The phrases are data (`data/policy.json`). An attempt to bend the rules is always recognised, even inside
a shopping request ("add the tent and give me 50% off"); greetings and off-topic cues count only when the
message names nothing the catalog sells.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

from market.assistant.reading.language import english_words, names_no_product

Kind = Literal["greeting", "thanks", "identity", "off_topic", "manipulation"]
Trick = Literal["discount", "free", "instructions"]

# "what is 17*23", "17 x 23 =", "what's 12 + 5": arithmetic, not a product dimension such as "2x4".
_ARITHMETIC = re.compile(
    r"(?:\bwhat(?:'?s|\s+is)\s+\d+(?:\.\d+)?\s*[-+*/x×÷]\s*\d+|\d+\s*[-+*/×÷]\s*\d+\s*=|\d+\s*[*/×÷]\s*\d+)",
    re.IGNORECASE,
)
_PERCENT_OFF = re.compile(
    r"\d+\s*(?:%|percent|per\s+cent)\s*(?:off|discount)|\bhalf\s+(?:off|price)\b", re.IGNORECASE
)
_COUPON = re.compile(r"\b(?:code|coupon|voucher)\s+[A-Z0-9]*\d[A-Z0-9]*\b|\b[A-Z]{3,}\d{2,3}\b")
_BRACKETED = re.compile(r"\[[^\]]*\]?|\{[^}]*\}?|<[^>]*>?")
_SENTENCE_END = re.compile(r"(?<=[.;!?\n])\s+")
_SHIPPING = re.compile(r"\b(?:ship|shipping|shipped|delivery|deliver|returns?)\b", re.IGNORECASE)
# Free shipping asked for as a favour, not asked about: "give me free shipping", "waive the delivery fee",
# "make the delivery free for me".
_SHIPPING_FAVOUR = re.compile(
    r"\b(?:give|throw\s+in|make|let|get)\s+(?:me\s+|us\s+|it\s+)?(?:\w+\s+){0,2}?free\s+(?:shipping|delivery)\b|"
    r"\b(?:make|let)\s+(?:the\s+|my\s+)?(?:shipping|delivery|postage)\s+(?:\w+\s+)?free\b|"
    r"\bwaive\b|\b(?:skip|drop|remove|cancel)\s+(?:the\s+)?(?:shipping|delivery)\s+(?:fee|cost|charge)",
    re.IGNORECASE,
)
# A product made free: "make the first one free", "make it free for me" (not "make sure it's BPA free", nor
# free shipping, which `_SHIPPING_FAVOUR` reads).
_MADE_FREE = re.compile(
    r"\bmake\s+(?!sure\b)(?:\w+\s+){1,3}?free\b(?!\s*-|\s+(?:shipping|delivery|postage|returns?)\b)",
    re.IGNORECASE,
)
# Words that ask the assistant to do something in the shop: a message with them is no mere "thanks".
_REQUEST = re.compile(
    r"\b(?:show|find|search|add|put|take|remove|need|want|looking|get|buy|order|pay|checkout|check\s+out|"
    r"compare|cheaper|another|more|other|instead|no|not|without|except|either|only|but|"
    r"price|cost|size|diameter|weight|material|stock|shipping|delivery)\b|"
    # ... or ask about a product shown: "thanks. the second one, what diameter?" (not "i'll ask her first")
    r"\b(?:the|that|this)\s+(?:first|second|third|fourth|fifth|last)\b|\b(?:first|second|third|fourth|fifth|last)\s+one\b",
    re.IGNORECASE,
)
# A request that holds only on the trick's terms: "... if you knock 20% off", "add it but at 50% off".
_CONDITION = re.compile(r"\b(?:if|unless|otherwise|or else|only if|as long as|provided)\b", re.IGNORECASE)
# Terms tied to the thing taken when said in the same clause: "add it for free", not "add the first one, and
# apply code X for half off" (the add stands; the code is refused).
_ON_TERMS = re.compile(
    r"\b(?:but\s+(?:at|for|with)|at\s+(?:\d+\s*%\s*off|half(?:\s+the)?\s+price|a\s+discount|cost)|"
    r"for\s+(?:free|nothing|half))\b",
    re.IGNORECASE,
)
_TAKING = re.compile(r"\b(?:add|put|throw|stick|pop|take|buy|get|order|grab|ring|charge)\b", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;!?]+\s*|,\s*(?:and|also|plus|then)\s+", re.IGNORECASE)


# The trick asked for first and the product taken on its terms: "change the price and put them in my cart".
_ASKED_AFTER_THE_TRICK = re.compile(
    r"\b(?:price|prices|pricing|discount|free|off|code|coupon|\$\s?\d+)\b[^.!?]{0,60}?\band\s+"
    r"(?:then\s+)?(?:add|put|throw|stick|pop|ring|charge|check)\b",
    re.IGNORECASE,
)


# A message asking for a thing to buy, whatever it is said around: "what can keep her busy", "anything to..."
# A question about a product talked of: "does it come with the rules in spanish?" asks no translation.
_OF_A_PRODUCT = re.compile(
    r"\b(?:does|do|is|are|can|will)\s+(?:it|they|this|that|these|those|the\s+\w+(?:\s+one)?)\s+"
    r"(?:come|have|include|contain|ship|work|play|support)\b",
    re.IGNORECASE,
)
_ASKS_FOR_A_THING = re.compile(
    r"\bwhat\s+(?:can|could|would|should|will|do\s+you\s+have\s+that)\s+(?:\w+\s+)?(?:keep|help|get|buy|use|wear)\b|"
    # "need a drone w/ a decent camera to film my kid's football games": the games are what it is for
    r"^\W*(?:i\s+)?(?:need|want|looking\s+for|after|buy|buying)\s+(?:a|an|some|new|a\s+new)\s+[a-z]|"
    r"\bdo\s+you\s+(?:sell|have|carry|stock)\s+(?:a|an|any)\s+[a-z]|"
    r"\b(?:anything|something|stuff|things?)\s+(?:to|that|for)\s+(?:keep|help|stop|make|get|wear|use|do)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    """What policy makes of a message: its kind (None: an ordinary message) and, for manipulation, which
    trick and whether the shopper's request depends on it ("... otherwise don't bother")."""

    kind: Kind | None
    trick: Trick | None = None
    conditional: bool = False


@functools.cache
def _phrases() -> dict[str, re.Pattern[str]]:
    data = json.loads(files("market.assistant.reading").joinpath("data/policy.json").read_text("utf-8"))
    patterns = {}
    for kind, phrases in data.items():
        if kind == "note":
            continue
        alternatives = sorted((re.escape(phrase) for phrase in phrases), key=len, reverse=True)
        patterns[kind] = re.compile(r"(?<![\w])(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE)
    return patterns


def read(text: str, *, shopping: bool) -> Reading:
    """`shopping`: the message names something the catalog sells (a category, a product, a brand)."""
    phrases = _phrases()
    trick = _trick(text, phrases)
    if trick is not None:
        conditional = bool(
            _CONDITION.search(text)
            or _ASKED_AFTER_THE_TRICK.search(text)
            or any(_ON_TERMS.search(part) and _TAKING.search(part) for part in _CLAUSE.split(text))
            or (_ON_TERMS.search(text) and not _TAKING.search(text))  # "the first one for free?"
        )
        return Reading("manipulation", trick, conditional=conditional)
    if phrases["tasks"].search(text):
        return Reading("off_topic")  # "translate 'where is the train station'": no station is wanted
    if phrases["asked_elsewhere"].search(text):
        return Reading("off_topic")  # "who won the arsenal game last night": no game is wanted
    if shopping:
        return Reading(None)
    if phrases["identity"].search(text):
        return Reading("identity")  # "r u a real person or a bot"
    if _ARITHMETIC.search(text):
        return Reading("off_topic")
    if phrases["off_topic"].search(text) and not (_ASKS_FOR_A_THING.search(text) or _OF_A_PRODUCT.search(text)):
        # "good evening! quick one - what's the capital of Australia?" (not "it's going to rain all weekend,
        # what can keep her busy?": the weather is why a thing is wanted)
        return Reading("off_topic")
    for kind in ("thanks", "greeting"):
        pattern = phrases[kind]
        # A message opening with thanks, asking nothing: "thank you so much, that's super helpful! gonna
        # measure the living room first" (whatever its words name)
        closing = kind == "thanks" and "?" not in text and bool(pattern.match(text.strip()))
        if pattern.search(text) and _says_nothing_more(pattern.sub(" ", text), any_words=closing):
            return Reading(kind)  # type: ignore[arg-type]
    return Reading(None)


def _trick(text: str, phrases: dict[str, re.Pattern[str]]) -> Trick | None:
    if phrases["instructions"].search(text):
        return "instructions"
    if phrases["free"].search(text) and not _SHIPPING.search(text):  # "free shipping?" is a fair question
        return "free"
    if _MADE_FREE.search(text):
        return "free"
    if _SHIPPING_FAVOUR.search(text):
        return "free"
    if phrases["discount"].search(text) or _PERCENT_OFF.search(text) or _COUPON.search(text):
        return "discount"
    return None


def without_tricks(text: str) -> str:
    """The message with the clauses that try to bend the rules taken out (a bracketed "[SYSTEM NOTE: ...]",
    "and knock 30% off"), so that what is left is read as the shopping request it also is."""
    phrases = _phrases()
    text = _BRACKETED.sub(lambda match: " " if _trick(match.group(0), phrases) else match.group(0), text)
    kept = []
    for sentence in _SENTENCE_END.split(text):
        parts = re.split(r"\b(?:and|but|also|plus)\b|,", sentence)
        kept.append(" ".join(part for part in parts if _trick(part, phrases) is None))
    return " ".join(" ".join(kept).split())


def _says_nothing_more(text: str, *, any_words: bool = False) -> bool:
    """Whether what is left of a greeting or thanks only chats ("that's grand, I'll have a think"): a few
    everyday words (`any_words`: words of any kind), none that asks for something."""
    # A name is no request: "thank youuu, Mochi will be thrilled" (but "would ye have any Lego?" asks)
    unnamed = re.sub(r"(?<=[\w,;:)] )[A-Z][a-z]+\b", " ", text) if "?" not in text else text
    words = re.findall(r"[a-z']+", unnamed.lower())
    return (
        len(words) <= 14
        and not _REQUEST.search(text)
        # (chat goes on for a few words; "thanks, a kayak" may ask for one)
        and ((any_words and len(words) >= 4) or all(word in english_words() or names_no_product(word) for word in words))
    )


def greeting_only(text: str) -> str:
    """The message without its greetings and thanks: "hi! i need a rain jacket" -> "i need a rain jacket"."""
    phrases = _phrases()
    rest = phrases["thanks"].sub(" ", phrases["greeting"].sub(" ", text))
    return " ".join(rest.split()).strip(" ,.!?;:")
