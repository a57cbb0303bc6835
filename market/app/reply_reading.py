"""What kind of reply an assistant gave, read the way `agora eval assistant` checks the shopper dialogues'
`says`: fixed patterns, the same for every dialogue, documented in
`market/assistant/dialogues/shoppers/FORMAT.md` ("How the evaluator recognises a reply's kind"). Pure
functions of text (prices, values and product names are read in `reply_values`).
"""

from __future__ import annotations

import functools
import re

_NOT = r"(?:do(?:es)?n'?t|do(?:es)? not|never|can'?t|cannot)"
_CARRY = r"(?:carry|carries|sell|sells|stock|stocks|have|has|offer|offers|list|lists|include|includes)"
_CATALOG = r"(?:catalog(?:ue)?|marketplace|market|store|shop|range|listings?|inventory|selection)"
SAYS_PATTERNS: dict[str, tuple[str, ...]] = {
    "not_carried": (
        (
            rf"\b(?:we|agora|our sellers?|the (?:sellers?|{_CATALOG})|our {_CATALOG})\b[^.!?\n]{{0,40}}\b{_NOT}"
            rf"\b[^.!?\n]{{0,20}}\b{_CARRY}\b"
        ),
        r"\bno (?:sellers?|shops?|stores?|one)\b[^.!?\n]{0,40}\b(?:sells?|carr(?:y|ies)|stocks?|offers?|lists?)\b",
        (
            r"\b(?:couldn'?t|could not|can'?t|cannot|didn'?t|did not|wasn'?t able to|was unable to|unable to) find"
            rf"\b[^.!?\n]{{0,60}}\b(?:in|on) (?:our|the|agora'?s?) {_CATALOG}"
        ),
        rf"\bnot (?:in|on|part of|something (?:in|on)) (?:our|the|agora'?s?) {_CATALOG}",
        (
            r"\b(?:isn'?t|is not|aren'?t|are not|not) (?:something|anything|an item|a product|products)?\s?(?:we|agora)"
            r"\s(?:carry|sell|stock|have|offer)"
        ),
        rf"\b(?:nothing|no)\b[^.!?\n]{{0,40}}\b(?:in|on) (?:our|the|agora'?s?) {_CATALOG}",
        (
            r"\bnone of (?:our|the) (?:sellers?|shops?|stores?)\b[^.!?\n]{0,30}\b(?:sells?|carr(?:y|ies)|stocks?"
            r"|offers?|lists?|have|has)\b"
        ),
        (
            r"\b(?:isn'?t|is not|aren'?t|are not|not) (?:available|sold|carried|stocked|offered|listed)\b"
            r"[^.!?\n]{0,20}\b(?:on agora|here|in our|on our|by (?:any|our) sellers?)"
        ),
    ),
    "greeting": (
        r"\b(?:you'?re|you are) (?:very |most )?welcome\b",
        (
            r"\b(?:my pleasure|glad (?:i could|to) help|happy to help|no problem|any ?time|take care|goodbye|bye"
            r"|have a (?:great|good|nice|lovely|wonderful)|thanks for (?:shopping|stopping|visiting|chatting))\b"
        ),
    ),
    "off_topic": (
        r"\b(?:i )?(?:can|could) only (?:help|assist)\b",
        r"\bonly (?:here )?(?:to )?(?:help|assist)(?: you)? (?:with|you) (?:shop|find|product|the catalog)",
        (
            r"\b(?:can'?t|cannot|can not|unable to|not able to|won'?t be able to) (?:help|assist)(?: you)? with"
            r" (?:that|this|those|questions? like|anything)"
        ),
        r"\b(?:outside|beyond|not within|isn'?t within|out of) (?:what i can|my|the scope)",
        r"\bthat'?s not something i (?:can|am able to) (?:help|assist|answer)",
        r"\bi(?:'?m| am) (?:just |only )?(?:a |your )?shopping (?:assistant|helper)\b",
        r"\bi (?:only|just) (?:help|handle|know about|deal with|do)\b[^.!?\n]{0,20}\b(?:shop|product|catalog)",
        r"\bi'?m (?:only |just )?here to help (?:you )?(?:with |find |shop)",
    ),
    "refusal": (
        (
            r"\b(?:can'?t|cannot|can not|won'?t|will not|unable to|not able to|not allowed to|am not allowed to"
            r"|don'?t have (?:the )?(?:ability|access|permission))\b[^.!?\n]{0,80}\b(?:discounts?|prices?|pricing"
            r"|free|coupons?|codes?|promos?|instructions|system prompt|prompt|admin|modes?|rules|costs?|\$0)\b"
        ),
        r"\bprices? (?:are|is) (?:set|decided|fixed|chosen) by (?:the |each |our )?sellers?\b",
        r"\bsellers? (?:set|decide|choose) (?:the|their) (?:own )?prices?\b",
        r"\bno (?:discounts?|coupons?|promo codes?)\b[^.!?\n]{0,30}\b(?:available|offer|apply)",
    ),
    "language_unsupported": (
        r"\bonly\b[^.!?\n]{0,25}\benglish\b",
        r"\benglish only\b",
        (
            r"\b(?:don'?t|do not|can'?t|cannot|can not) (?:yet )?(?:understand|speak|read|support|handle)\b"
            r"[^.!?\n]{0,30}\blanguages?\b"
        ),
        (
            r"\b(?:please|could you|can you|would you)\b[^.!?\n]{0,30}\b(?:write|ask|type|try|say|repeat)\b"
            r"[^.!?\n]{0,30}\bin english\b"
        ),
    ),
    "listing_silent": (
        (
            r"\b(?:do(?:es)?n'?t|do(?:es)? not|did not|didn'?t) (?:say|state|mention|specify|list|include|give|show"
            r"|cover)\b"
        ),
        (
            r"\b(?:isn'?t|is not|aren'?t|are not|not) (?:stated|mentioned|specified|listed|given|provided|included"
            r"|shown|available)\b"
        ),
        r"\bno\b[^.!?\n]{0,25}\b(?:information|info|details?|data|mention)\b",
        r"\b(?:hasn'?t|has not|haven'?t|have not) (?:provided|given|listed|stated|said|specified|mentioned|included)",
        r"\bcan'?t (?:tell|see|find)\b[^.!?\n]{0,30}\b(?:listing|details|description|product page)",
        r"\b(?:don'?t|do not) (?:have|see|know) (?:that|this|any|the|those)? ?(?:information|info|details?|data)",
    ),
}
_GREET = re.compile(
    r"\b(?:hello|hi|hey|hiya|howdy|welcome|greetings|good (?:morning|afternoon|evening|day)|i'?m (?:doing )?"
    r"(?:well|good|great|fine)|doing (?:well|great|good))\b",
    re.IGNORECASE,
)
_OFFER = re.compile(
    r"\b(?:help|assist|looking for|find|shopping|shop for|what can i|how can i|can i get you|need)\b",
    re.IGNORECASE,
)
_DECLINE = re.compile(  # off_topic, when the reply also brings the talk back to shopping (_SHOPPING)
    r"\b(?:can'?t|cannot|unable to|not able to|don'?t|do not) (?:check|give|provide|tell|answer|do|write"
    r"|translate|share|look up|know|predict|offer)\b",
    re.IGNORECASE,
)
_SHOPPING = re.compile(
    r"\b(?:shop|shopping|products?|looking for|find|buy|catalog(?:ue)?|agora)\b", re.IGNORECASE
)
_COMPILED = {
    kind: tuple(re.compile(p, re.IGNORECASE) for p in patterns) for kind, patterns in SAYS_PATTERNS.items()
}
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)]|[a-e][.)])\s+\S")
SENTENCE_END = re.compile(r"(?<=[.!?])(?<![Nn][or]\.)(?<!approx\.)\s+|\n+")  # "no. 2" ends no sentence


def plain(text: str) -> str:
    """Typographic apostrophes and quotes made plain, so "don’t" reads as "don't"."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(plain(text)) if part.strip()]


_QUOTED = re.compile(r"“[^”]*”|\"[^\"\n]*\"")


def without_echo(reply: str, said: str) -> str:
    """`reply` with its quoted stretches made only of the shopper's own words blanked out: an echo of the
    query ("Here is what I found for “is the third one linen”") answers nothing."""
    words = set(re.findall(r"\w+", plain(said).lower()))

    def blank(quoted: re.Match) -> str:
        inner = set(re.findall(r"\w+", plain(quoted[0]).lower()))
        return " " * len(quoted[0]) if inner and inner <= words else quoted[0]

    return _QUOTED.sub(blank, reply)


def opening(text: str) -> str:
    """The reply's first sentence of four words or more, with any shorter ones before it ("Sorry!")."""
    opened = []
    for sentence in sentences(text):
        opened.append(sentence)
        if len(sentence.split()) >= 4:
            break
    return " ".join(opened)


def says(kind: str, reply: str, *, shown: int = 0) -> bool:
    """Whether `reply` is a reply of this kind (see SAYS_PATTERNS); `shown`: product cards with it."""
    text = plain(reply)
    if kind == "clarifying_question":
        return shown == 0 and "?" in text and option_count(text) >= 3
    if kind == "greeting":
        return bool(_GREET.search(text) and _OFFER.search(text)) or _matches(kind, text)
    if kind == "not_carried":
        return _matches(kind, opening(text))
    if kind == "off_topic" and _DECLINE.search(text) and _SHOPPING.search(text):
        return True
    if kind == "language_unsupported":
        return _matches(kind, text) and has_other_language(text)
    if kind in _COMPILED:
        return _matches(kind, text)
    raise ValueError(f"unknown reply kind {kind!r}")


def _matches(kind: str, text: str) -> bool:
    return any(pattern.search(text) for pattern in _COMPILED[kind])


def option_count(text: str) -> int:
    """The most options the reply offers in one place: bulleted or numbered lines (or, in a reply of several
    lines, short lines that are neither a question nor a heading), or items of one sentence separated by commas, "or" and "/"."""
    lines = [line for line in text.splitlines() if line.strip()]
    bullets = sum(1 for line in lines if _BULLET.match(line))
    short = sum(1 for line in lines if not line.rstrip().endswith(("?", ":")) and len(line.strip()) <= 60)
    short = short if len(lines) > 3 else 0
    inline = max(
        (len(re.split(r",\s*(?:or\s+|and\s+)?|\s+or\s+|\s*/\s*", sentence)) for sentence in sentences(text)),
        default=0,
    )
    return max(bullets, short, inline)


# --- other languages ---------------------------------------------------------------------------------------


@functools.cache
def _detector():
    from lingua import Language, LanguageDetectorBuilder  # loads its models on first use

    languages = [
        Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN, Language.ITALIAN,
        Language.PORTUGUESE, Language.DUTCH, Language.POLISH, Language.TURKISH, Language.SWEDISH,
        Language.DANISH, Language.BOKMAL, Language.FINNISH, Language.CZECH, Language.ROMANIAN,
        Language.HUNGARIAN, Language.RUSSIAN, Language.UKRAINIAN, Language.GREEK, Language.ARABIC,
        Language.HEBREW, Language.HINDI, Language.CHINESE, Language.JAPANESE, Language.KOREAN,
        Language.VIETNAMESE, Language.INDONESIAN,
    ]  # fmt: skip
    return LanguageDetectorBuilder.from_languages(*languages).build(), Language.ENGLISH


def has_other_language(text: str) -> bool:
    """Whether some of `text` is not English: letters of a non-Latin script, or a sentence of three words or
    more that lingua reads as another language."""
    if any(char.isalpha() and ord(char) > 0x24F for char in text):  # beyond the Latin scripts
        return True
    detector, english = _detector()
    for sentence in sentences(text):
        if len(sentence.split()) >= 3 and detector.detect_language_of(sentence) not in (None, english):
            return True
    return False
