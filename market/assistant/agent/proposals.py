"""The deterministic layer's reading of a message, and what it proposes to do about it.

`read` runs the layer's parts on the shopper's message: the language, what policy makes of it (small talk,
off-topic, an attempt to bend the rules), `understand` (budget, colours, brands and what is turned down,
category, search words), the action classifier, references to products shown, a question about a product
and a comparison. `propose` turns that reading and the dialogue state into a plan: a reply by policy, or
tool calls with their arguments filled in from the state. The local backend carries the plan out as it is;
an openai backend falls back on it when the model fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from market.assistant.agent import replies, state
from market.assistant.agent.carried import missing_brand, missing_product, unheard_pair
from market.assistant.agent.history import History
from market.assistant.agent.state import DialogueState, Need
from market.assistant.agent.tools import confirms_checkout
from market.assistant.llm.messages import ToolCall
from market.assistant.reading import language, policy, references, synonyms, understanding
from market.assistant.reading.amounts import read_budget
from market.assistant.reading.attributes import AttributeReading, read_attributes, turned_down_word
from market.assistant.reading.questions import (
    Comparison,
    Question,
    is_question,
    read_comparison,
    read_question,
)
from market.assistant.reading.references import ShownProduct
from market.assistant.reading.request import requested
from market.assistant.reading.understanding import Slots
from market.assistant.reading.vocabulary import Vocabulary, generic_head, stem, title_words

MAX_QUANTITY = 20
MAX_QUERY_CHARS = 200  # what the search tool takes; a longer message is cut, not refused
# Words of a message that add nothing to the search itself: "show me some other cheaper ones".
_FILLER_WORDS = (
    "show me some any other others more ones one those these them cheaper cheap less expensive lower priced "
    "affordable instead something else different in a an the with without please only just what about how "
    "do you have got ok okay sure yes no maybe like i want need looking for find get see please pls thanks "
    "then now actually hmm um well so also too again anything everything stuff things item items product products "
    "ooh oh ah ugh meh wow hey yeah yep nope tho though lol haha"
)
_FILLER = frozenset(_FILLER_WORDS.split())
_TWO = re.compile(r"\b(?:the|these|those)\s+two\b|\bboth\b", re.IGNORECASE)
# Words that speak of the kind of product rather than of one shown ("any of those in black", "ones with").
_OF_THE_KIND = re.compile(
    r"\b(?:any|ones|those|these|others|anything|something|some|one\s+(?:with|in|that|for)|a\s+\w+er\s+one)\b",
    re.IGNORECASE,
)
_EXPLICIT_REF = re.compile(
    r"\b(?:first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|4th|5th|6th|number\s+\d|no\.?\s*\d|option\s+\d)\b|#\s?\d",
    re.IGNORECASE,
)
_THIS_ONE = re.compile(r"\b(?:it|its|it's|this|that|they|them|their)\b", re.IGNORECASE)
_REFINING = re.compile(
    r"\b(?:cheaper|pricier|less\s+expensive|more\s+expensive|other|others|different|else)\b", re.IGNORECASE
)
_CART_PLACE = re.compile(
    r"\b(?:in|into|to|from|out\s+of)\s+(?:the|my|your)?\s*(?:cart|basket|trolley|bag)\b", re.IGNORECASE
)
_SET_QUANTITY = re.compile(
    r"\b(?:make\s+(?:it|that|them|those)|change\s+(?:it|that)\s+to|instead|only|just)\b", re.IGNORECASE
)
_CHECKOUT_TOO = re.compile(r"\b(?:check\s?out|checkout|pay(?:ment)?|place\s+the\s+order)\b", re.IGNORECASE)
_MANY = re.compile(r"\b(?:both|all|each|and|&|first\s+(?:two|three|\d))\b", re.IGNORECASE)
_ADD_CUE = re.compile(
    r"\b(?:add|put|throw|toss|grab|i'?ll\s+take|take|get\s+me|too|as\s+well|also|into\s+(?:the|my)\s+(?:cart|basket))\b",
    re.IGNORECASE,
)
_ABOUT_THE_CART = re.compile(
    r"\b(?:cart|basket|trolley|my\s+order|check\s?out|pay(?:ment)?)\b", re.IGNORECASE
)
# "and the second?", "what about number 3": the last question again, of another product.
_SAME_AGAIN = re.compile(
    r"^\W*(?:and|what\s+about|how\s+about|same\s+(?:for|with)|and\s+for)\b|^[^.!]{0,30}\?\s*$", re.IGNORECASE
)
# A comparison asked, not a refinement ("which is cheaper?" compares; "show me cheaper ones" searches again).
# "longer than that" asks for longer ones than those shown: a refinement, not a comparison.
_COMPARING = re.compile(
    r"\b(?:which|what\s+one|than(?!\s+(?:that|those|these|them|this|the\s+ones?)\b)|vs\.?|versus|compare|"
    r"compared|comparing|between)\b",
    re.IGNORECASE,
)


class Classifier(Protocol):
    """The action classifier: which of the nine actions a message asks for, and how sure it is."""

    def predict(self, text: str, *, has_shown: bool) -> tuple[str, float]: ...


@dataclass(frozen=True)
class Layer:
    """The deterministic parts, injected so that tests (and other catalogs) can bring their own.
    `suggest(text)`: 3-5 category paths of the live catalog that could suit a vague need."""

    vocabulary: Vocabulary
    classifier: Classifier
    understand: Callable[..., Slots] = understanding.understand
    resolve: Callable[..., list[int]] = references.resolve_reference
    suggest: Callable[[str], list[str]] = lambda text: []


@dataclass(frozen=True)
class Intent:
    """What the layer read in one message."""

    action: str
    confidence: float
    slots: Slots
    references: list[int]
    policy: policy.Reading = field(default_factory=lambda: policy.Reading(None))
    foreign: language.Foreign | None = None
    question: Question | None = None
    comparison: Comparison | None = None
    topic: tuple[str, ...] = ()  # the message's words that name a kind of product (known or not)
    suggestions: tuple[str, ...] = ()  # category paths that could suit a vague need, for one question
    catalog_topic: tuple[str, ...] = ()  # those of `topic` that the catalog's titles and categories have
    title_words: tuple[str, ...] = ()  # words only a title says ("over-ear"): see `vocabulary.title_words`
    describes_need: bool = False  # attribute values of what is being looked for: a refinement
    words: str = ""  # the search words of what the message asks for
    attributes: AttributeReading = field(default_factory=AttributeReading)
    clean: str = ""  # the message as read: the catalog's words, without attempts to bend the rules
    outside_brand: bool = False  # a well-known brand the catalog does not list is named

    def record(self) -> dict[str, Any]:
        """As the turn's row and the `intent` event keep it."""
        found: dict[str, Any] = {
            "action": self.action,
            "confidence": round(self.confidence, 4),
            "slots": msgspec.to_builtins(self.slots),
            "references": self.references,
        }
        if self.policy.kind:
            found["policy"] = (
                self.policy.kind if not self.policy.trick else f"{self.policy.kind}:{self.policy.trick}"
            )
        if self.foreign:
            found["language"] = self.foreign.code
        if self.question:
            found["question"] = list(self.question.properties)
        if self.comparison:
            found["comparison"] = list(self.comparison.attributes)
        return found

    def note(self, currency: str) -> str:
        """A line for the model: what the layer read that it must respect (budget, quantity, references).
        A budget without a currency is in `currency`, as the search tool will read it."""
        slots, parts = self.slots, []
        currency = slots.currency or currency
        if slots.budget_max is not None and currency:
            parts.append(f"max_price {slots.budget_max} ({replies.money(slots.budget_max, currency)})")
        if slots.budget_min is not None and currency:
            parts.append(f"min_price {slots.budget_min} ({replies.money(slots.budget_min, currency)})")
        if slots.quantity:
            parts.append(f"quantity {slots.quantity}")
        if slots.exclude_brands:
            parts.append(f"exclude brands {', '.join(slots.exclude_brands)}")
        if self.references:
            parts.append(f"refers to product_id {', '.join(map(str, self.references))}")
        return f"Agora's parser read the shopper's message as: {'; '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class Proposal:
    """The layer's plan for a turn."""

    calls: tuple[ToolCall, ...] = ()
    # Search arguments without words: the model is asked for them (or the shopper, if it cannot).
    needs_query: dict[str, Any] | None = None
    confirm_checkout: bool = False  # checkout was asked for without an explicit confirmation
    say: str | None = None  # a reply by policy, with no tool: a greeting, a refusal, "I only read English"
    kind: str | None = None  # what `say` is, for the turn's record
    prefix: str | None = None  # said before the tools' reply: a refusal beside a fair request
    state: DialogueState | None = None  # the dialogue state after this turn; None: unchanged


def read(layer: Layer, text: str, history: History, *, currency: str) -> Intent:
    vocabulary = layer.vocabulary
    normal = _units_said(synonyms.normalized(text))
    trick = policy.read(normal, shopping=True)
    clean = policy.without_tricks(normal) if trick.kind == "manipulation" else normal
    # "into the cart", "in my basket": where things go, not a product ("Hose Reel Cart"); "scratch the
    # size": a condition dropped (`state.refined` reads it), not a product either.
    said = _CART_PLACE.sub(" ", state.DROPPED.sub(" ", clean))
    # "scrap the pram, just baby bottles": a kind turned down names neither the need nor its category.
    dropped = [
        word
        for word in re.findall(r"[\w'-]+", said)
        if vocabulary.names_a_kind(word) and turned_down_word(said, word)
    ]
    for word in dropped:
        said = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", said)
    slots = layer.understand(said, vocabulary, currency_default=currency)

    def names_here(word: str) -> bool:
        return not turned_down_word(said, word) and not _said_otherwise(said, word)

    known = [w for w in topic_words(slots, vocabulary) if vocabulary.names_a_kind(w) and names_here(w)]
    message = [word for word in re.findall(r"[\w'-]+", said) if names_here(word)]
    kinds = [word for word in message if vocabulary.names_a_kind(word) and not generic_head(word)]
    phrase = requested(said, kinds, [word for word in message if _unknown_words(word, vocabulary)])
    colors = frozenset(word.lower() for color in vocabulary.colors for word in color.split())
    if (
        phrase
        and not missing_brand(phrase, vocabulary)
        and (missing_product(phrase, vocabulary, ignore=colors) or unheard_pair(phrase, vocabulary))
    ):
        # "grain free dog food, big bag": what is asked for may not be sold; other words ("bag") must not
        # find something else for it (only the phrase's own category counts). The search decides whether
        # it is sold (`carried`).
        in_phrase = {word.lower() for word in re.findall(r"[\w'-]+", phrase)}
        known = [word for word in known if word.lower() in in_phrase]
        own = layer.understand(phrase, vocabulary, currency_default=currency).category
        slots = msgspec.structs.replace(slots, category=own)
    unknown = [word for word in _unknown_words(phrase or "", vocabulary) if word not in known]
    named = bool(slots.category or slots.brand or slots.exclude_brands or known)
    reading = trick if trick.kind else policy.read(clean, shopping=named)
    action, confidence = layer.classifier.predict(clean, has_shown=bool(history.shown))
    if history.asked_checkout and confirms_checkout(clean, asked=True):
        action, confidence = "checkout", 1.0  # "yes" answers the question the assistant just asked
    refs = layer.resolve(clean, history.shown, focus=history.focus) if history.shown else []
    if not refs and history.earlier_lists:  # "add the tent from before": a product of an earlier list
        for shown in reversed(history.earlier_lists):
            if found := layer.resolve(clean, shown, focus=None):
                refs = found
                break
    topic = (*known, *unknown)
    context = slots.category or (history.state.need.category if history.state.need and not topic else None)
    vague_need = reading.kind is None and not (named or unknown or slots.colors)
    attributes = read_attributes(read_budget(clean, currency_default=currency).rest, vocabulary, context)
    return Intent(
        action=action,
        confidence=float(confidence),
        slots=slots,
        references=list(refs),
        policy=reading,
        suggestions=tuple(layer.suggest(_interests(clean) or clean)) if vague_need and not refs else (),
        foreign=language.foreign(text, vocabulary.said_words | {b.lower() for b in vocabulary.brands}),
        question=read_question(clean, vocabulary.attribute_keys, vocabulary.attribute_values),
        comparison=read_comparison(clean),
        topic=tuple(topic),
        catalog_topic=tuple(known),
        title_words=tuple(title_words(clean, vocabulary)),
        describes_need=_describes(attributes, history.state.need, vocabulary),
        words=_without_excluded(_need_words(phrase, known, unknown, slots, vocabulary), attributes, slots),
        attributes=attributes,
        clean=clean,
        outside_brand=missing_brand(clean, vocabulary) is not None,
    )


_TOPS = re.compile(r"(\d[\w.$£€]*\s*(?:[a-z]+\s+)?)tops\b", re.IGNORECASE)
_WEIGHT_TALK = re.compile(
    r"\b(?:weigh\w*|weight|heavy|guy|kid|child|toddler|hold|holds|take|takes|support\w*|carr\w+|capacity)\b",
    re.IGNORECASE,
)
_POUNDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:pounds|pound)\b", re.IGNORECASE)


def _said_otherwise(text: str, word: str) -> bool:
    """Whether `word` is said as something other than a product: a verb ("I camp wild", "throw in the
    earbuds") or "in stock"."""
    escaped = re.escape(word)
    patterns = [rf"\b(?:i|we|you|they|he|she|i'?ll|we'?ll|i'?d|we'?d|to|usually|often|always)\s+{escaped}\b"]
    if word.lower() == "stock":
        patterns.append(r"\b(?:in|out\s+of|back\s+in)\s+stock\b")
    if word.lower() in _VERBS_TOO:
        patterns.append(rf"\b{escaped}\s+(?:in|it|them|those|these|that|this|one)\b")
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)


_VERBS_TOO = frozenset({"throw", "toss", "chuck", "pack"})  # "throw in the earbuds" adds them
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
_ALSO_ADD = re.compile(
    r"\b(?:too|also|as\s+well|add|into|in\s+the\s+(?:cart|basket)|grab|take)\b", re.IGNORECASE
)  # "1st one into the cart" names no product


def _units_said(text: str) -> str:
    """ "30 min tops" is at most 30 minutes, not a top to wear; "300 pounds" near "weight" is a weight."""
    text = _TOPS.sub(r"\1max", text)
    if _WEIGHT_TALK.search(text):
        text = _POUNDS.sub(r"\1 lb", text)
    return text


def _unknown_words(phrase: str, vocabulary: Vocabulary) -> list[str]:
    """Words of the requested phrase that may name a product the catalog lacks: not common English, not
    the catalog's own words, colours or brands."""
    common = language.english_words()
    found = []
    for word in re.findall(r"[\w'-]+", phrase.lower()):
        word = re.sub(r"['’]s$", "", word)  # "dad's": dad
        if len(word) < 2 or word in common or word.isdigit() or word in _FILLER or _ORDINAL.fullmatch(word):
            continue
        if vocabulary.sells(word):
            continue
        found.append(word)
    return found


def _need_words(
    phrase: str | None, known: list[str], unknown: list[str], slots: Slots, vocabulary: Vocabulary
) -> str:
    """The search words of what a message asks for: the requested phrase and the catalog's words said
    elsewhere ("a gift for my nephew, he loves building things" -> "gift building"); nothing for a message
    that names no product (a vague need, asked about instead of searched)."""
    if not (known or unknown):
        return ""
    if not phrase:
        return _content(slots.query)
    colors = {word for color in vocabulary.colors for word in color.lower().split()}
    words = [word for word in phrase.split() if word.lower() not in _FILLER and word.lower() not in colors]
    if not any(vocabulary.names_a_kind(word) for word in words):  # "shampoo for dry hair" is shampoo
        words += [word for word in known if word not in {w.lower() for w in words}]
    return " ".join(words)


def _without_excluded(words: str, attributes: AttributeReading, slots: Slots) -> str:
    """The search words without what the shopper turned down: "a face serum without retinol" searches
    "face serum", never "retinol"."""
    turned_down = {
        w
        for value in [
            *slots.exclude_brands,
            *slots.exclude_colors,
            *(v for values in attributes.excluded.values() for v in values),
        ]
        for w in value.lower().split()
    }
    return " ".join(word for word in words.split() if word.lower().strip(",.") not in turned_down)


def propose(intent: Intent, text: str, history: History, *, asked: bool) -> Proposal:
    """The plan for this message, arguments filled in."""
    if intent.foreign is not None:
        return Proposal(say=intent.foreign.reply, kind="language_unsupported")
    reading, action, refs, slots = intent.policy, intent.action, intent.references, intent.slots
    text = intent.clean or text
    if reading.kind == "manipulation":
        refusal = replies.REFUSALS[reading.trick or "instructions"]
        if reading.trick == "discount" and not reading.conditional and action == "add_to_cart" and refs:
            return msgspec_replace(
                _cart_add(intent, history), prefix=refusal
            )  # the add, at the seller's price
        if reading.trick == "instructions" and intent.catalog_topic:  # a search with an injection inside
            return msgspec_replace(_need(intent, text, history), prefix=refusal)
        return Proposal(say=refusal, kind="refusal")
    current = history.state
    if current.options and (option := _chosen(intent, current.options)):
        need = state.fresh(slots, intent.words, intent.attributes)
        need = msgspec.structs.replace(need, category=option if not slots.category else need.category)
        return _search(need, state.replaced(current, need))
    if reading.kind in ("greeting", "thanks", "off_topic"):
        return Proposal(say=replies.POLICY[reading.kind], kind=reading.kind)
    if history.shown and not _names_another_product(intent, history):
        if intent.comparison and (
            _COMPARING.search(text) or (not _filters_said(intent) and (action == "compare" or len(refs) >= 2))
        ):
            return _compare(intent, text, history)
        question = _question_about_shown(intent, text, history)
        if question is not None:
            return question
    answered = history.asked_checkout and confirms_checkout(text, asked=True)  # "yep go ahead"
    if action == "checkout" and (answered or not intent.topic):  # "can I order bananas" asks for bananas
        if confirms_checkout(text, asked=asked):
            return Proposal(calls=(ToolCall("start_checkout", {}),))
        return Proposal(confirm_checkout=True)
    if action == "view_cart" and refs and _ALSO_ADD.search(text) and _EXPLICIT_REF.search(text):
        return _cart_add(
            intent, history
        )  # "the third one too pls. what does my cart look like?": the cart shows
    if action == "view_cart":
        return Proposal(calls=(ToolCall("view_cart", {}),))
    if (
        action == "add_to_cart"
        and (refs or history.focus is not None)
        and not _names_another_product(intent, history)
    ):
        return _cart_add(intent, history)
    if action == "remove_from_cart" and history.cart_ids:
        in_cart = history.cart_ids
        ids = (
            _in_cart_by_name(intent, history)
            or [pid for pid in refs if pid in in_cart]
            or (sorted(in_cart) if len(in_cart) == 1 else [])
        )
        if not ids:
            return _ask("Which product should I take out of your cart?")
        return Proposal(calls=tuple(ToolCall("remove_from_cart", {"product_id": pid}) for pid in ids[:4]))
    if (
        action == "compare"
        and history.shown
        and not _filters_said(intent)
        and not _names_another_product(intent, history)
    ):
        return _compare(intent, text, history)
    return _need(intent, text, history)


def _filters_said(intent: Intent) -> bool:
    """Whether the message states what it wants ("75ft or more", "under 40 quid"): "longer than that, 75ft
    or more" asks for longer ones, not which of those shown is longer."""
    return bool(intent.attributes.wanted or intent.slots.has_budget)


def _question_about_shown(intent: Intent, text: str, history: History) -> Proposal | None:
    """A question about products already shown: "is the second one machine washable?", "does it ship to
    Canada?", and "and the second?" after a question about the first. A question about the kind of
    product ("any of those in black?", "anything cheaper?") searches again instead."""
    refs, asked = intent.references, history.state.asked
    if _ABOUT_THE_CART.search(text):
        return None  # "what's in my cart?" is about the cart, not a product
    slots = intent.slots
    about_the_kind = _REFINING.search(text) or _OF_THE_KIND.search(text) or intent.attributes.wanted
    if (about_the_kind or slots.colors or slots.has_budget or slots.size) and not _EXPLICIT_REF.search(text):
        return None  # "anything cheaper?", "have you got it in sage green?": a search again
    question_like = bool(intent.question) or is_question(text)
    if refs and not intent.question and asked and _SAME_AGAIN.search(text) and intent.action != "compare":
        return _answers(refs, asked, history)  # "and the second?": the same question of another product
    if not question_like:
        return None
    if refs:
        return _answers(refs, text, history)
    if history.focus is not None and _THIS_ONE.search(text):
        return _answers([history.focus], text, history)
    if intent.question and len(history.shown) == 1:
        return _answers([history.shown[0].product_id], text, history)
    return None


def _answers(ids: Sequence[int], question: str, history: History) -> Proposal:
    calls = tuple(
        ToolCall("answer_question", {"product_id": pid, "question": question[:300]}) for pid in ids[:2]
    )
    after = msgspec.structs.replace(history.state, asked=question[:300], options=())
    return Proposal(calls=calls, state=after)


def _asking_sentence(text: str) -> str:
    """The first sentence of a message that says more than everyday words ("lovely. any of those in black?
    hides the dog hair" -> "any of those in black?"): what it asks; the sentences after give reasons."""
    common = language.english_words()
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if any(
            word not in common and word not in _FILLER
            for word in re.findall(r"[a-z][a-z'-]*", sentence.lower())
        ):
            return sentence
    return text


def _in_cart_by_name(intent: Intent, history: History) -> list[int]:
    """The cart's products the message names by their title's words ("take the leggings out", "remove the
    stuffed animal first"): those whose titles have the most of the message's words that some cart title
    has and not every one does."""
    titles = {
        pid: {stem(word) for word in re.findall(r"[a-z]{3,}", title.lower())}
        for pid, title in history.cart_titles.items()
    }
    if len(titles) < 2:
        return []
    said = {stem(word) for word in re.findall(r"[a-z]{3,}", intent.clean.lower()) if word not in _FILLER}
    telling = {
        word
        for word in said
        if any(word in t for t in titles.values()) and not all(word in t for t in titles.values())
    }
    scores = {pid: len(telling & words) for pid, words in titles.items()}
    best = max(scores.values(), default=0)
    return sorted(pid for pid, score in scores.items() if best and score == best)


def _names_another_product(intent: Intent, history: History) -> bool:
    """Whether the message names a kind of product other than those shown ("I need a monitor stand")."""
    if intent.outside_brand:
        return True  # "do you have lululemon?" asks for what is not on the screen
    if intent.references and intent.question is not None and _EXPLICIT_REF.search(intent.clean):
        return False  # "do the first ones have noise cancelling or just block sound": about those shown
    if not intent.catalog_topic and not intent.slots.category:
        return bool(intent.topic) and not intent.references and intent.words != ""
    shown = " ".join(f"{p.title} {p.category}" for p in history.shown).lower()
    if intent.slots.category and history.state.need and history.state.need.category:
        need = history.state.need.category
        if intent.slots.category.startswith(need) or need.startswith(intent.slots.category):
            return False
    return not any(word in shown for word in intent.catalog_topic)


def msgspec_replace(proposal: Proposal, **changes: Any) -> Proposal:
    return Proposal(**{**proposal.__dict__, **changes})


def _need(intent: Intent, text: str, history: History) -> Proposal:
    """A search for the need as this message leaves it: refined, replaced, or returned to."""
    slots, current = intent.slots, history.state
    if (back := state.returning_to(current, slots, text)) is not None:
        back = state.refined(back, slots, text, history.shown, intent.attributes)
        return _search(back, state.replaced(current, back))
    need = current.need
    names_product = bool(slots.category or intent.catalog_topic) or bool(
        intent.topic and not intent.describes_need
    )
    # "and a camping stove?" after tents: a word the need lacks and the catalog does not sell is another
    # product, whatever category "camping" reads as.
    unsold = [word for word in intent.topic if word not in intent.catalog_topic]
    elsewhere = bool(need and unsold and not intent.describes_need and not state.has_words(need, unsold))
    if need is None or elsewhere or (names_product and not state.same_topic(need, slots, intent.topic)):
        fresh = state.fresh(slots, intent.words, intent.attributes)
        if need is not None and not (need.words or need.category or fresh.budget_max or fresh.budget_min):
            # "secret santa, £20 limit" asked about, then "something for his desk": still £20
            fresh = msgspec.structs.replace(
                fresh, budget_min=need.budget_min, budget_max=need.budget_max, currency=need.currency
            )
        if not (fresh.words or fresh.category or fresh.brand):
            if current.options and intent.suggestions:
                # Asked once already ("what kind of thing?"), answered with a person's interests ("he's into
                # music"): no second question; what suits them best, searched.
                fresh = msgspec.structs.replace(fresh, category=intent.suggestions[0])
                return _search(fresh, state.replaced(current, fresh))
            if len(intent.suggestions) >= 3:  # a need with nothing to search by: one question, with options
                question = replies.clarifying_question(intent.suggestions)
                kept = (
                    fresh if fresh.budget_max or fresh.budget_min else current.need
                )  # its budget, for later
                after = DialogueState(need=kept, earlier=current.earlier, options=intent.suggestions)
                names = [option.rsplit(">", 1)[-1].strip() for option in intent.suggestions]
                call = ToolCall("ask_clarifying_question", {"question": question, "options": names})
                return Proposal(calls=(call,), state=after)
            return Proposal(say=replies.ASK_WHAT, kind="prompt")
        return _search(fresh, state.replaced(current, fresh))
    refined = state.refined(need, slots, text, history.shown, intent.attributes)
    had = {stem(word) for word in need.words.lower().split()}
    extra = [word for word in intent.catalog_topic if stem(word) not in had]
    if not _EXPLICIT_REF.search(intent.clean):  # "over-ear only": a word titles have, asked for
        extra += [word for word in intent.title_words if stem(word) not in had]
    asking = _asking_sentence(intent.clean)  # not "hides the dog hair" after "any of those in black?"
    extra = [
        word
        for word in extra
        if not turned_down_word(intent.clean, word)  # "earbuds hurt my ears"
        and re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", asking, re.IGNORECASE)
    ]
    narrower = slots.category and not (need.category and need.category.startswith(slots.category))
    if extra and not narrower:  # "over-ear only" within headphones: words of the need
        refined = msgspec.structs.replace(refined, words=f"{refined.words} {' '.join(extra)}".strip())
    return _search(refined, DialogueState(need=refined, earlier=current.earlier))


def _describes(attributes: AttributeReading, need: Need | None, vocabulary: Vocabulary) -> bool:
    """Whether a message asks for attribute values of the need's category ("one rated to 15 degrees F,
    going up high in october"): then its words the catalog lacks describe the need, they name nothing."""
    if need is None or not need.category or not attributes.wanted:
        return False
    keys = {
        key
        for path, found in vocabulary.category_attributes.items()
        if path.startswith(need.category) or need.category.startswith(path)
        for key in found
    }
    return set(attributes.wanted) <= keys


def _search(need: Need, after: DialogueState) -> Proposal:
    arguments = _arguments(need)
    if not arguments.get("query"):
        return Proposal(needs_query=arguments, state=after)
    return Proposal(calls=(ToolCall("search_products", arguments),), state=after)


def _arguments(need: Need) -> dict[str, Any]:
    words = need.words or (need.category or "").rsplit(">", 1)[-1].strip() or (need.brand or "")
    arguments: dict[str, Any] = {
        "query": words[:MAX_QUERY_CHARS],
        "category": need.category,
        "min_price": need.budget_min,
        "max_price": need.budget_max,
        "currency": need.currency if need.budget_min is not None or need.budget_max is not None else None,
        "brand": need.brand,
        "colors": list(need.colors) or None,
        "size": need.size,
        "exclude_brands": list(need.exclude_brands),
        "exclude_colors": list(need.exclude_colors),
        "exclude_categories": list(need.exclude_categories),
        "attributes": {key: list(values) for key, values in need.attributes.items()},
        "exclude_attributes": {key: list(values) for key, values in need.exclude_attributes.items()},
    }
    return {key: value for key, value in arguments.items() if value not in (None, [], "", {})}


def _cart_add(intent: Intent, history: History) -> Proposal:
    ids = _meant(intent, history) or _focused(history)
    quantity = min(max(intent.slots.quantity or 1, 1), MAX_QUANTITY)
    if not ids:
        return _ask("Which product should I add to your cart? You can say its number in the list.")
    exact = bool(_SET_QUANTITY.search(intent.clean)) and intent.slots.quantity is not None
    arguments = {"quantity": quantity} | ({"exact": True} if exact else {})
    calls = tuple(ToolCall("add_to_cart", {"product_id": pid} | arguments) for pid in ids[:4])
    # "put it in, then let's check out": the add, and the question that confirms checkout
    return Proposal(calls=calls, confirm_checkout=bool(_CHECKOUT_TOO.search(intent.clean)))


def _meant(intent: Intent, history: History) -> list[int]:
    """The products referred to; of several matched by a word ("the 320 piece one"), those of what the
    shopper is looking for when that tells them apart."""
    refs = intent.references
    if len(refs) <= 1 or _MANY.search(intent.clean) or not history.state.need:
        return refs
    words = [word for word in history.state.need.words.lower().split() if len(word) > 2]
    titles = {
        p.product_id: p.title.lower()
        for p in [*history.shown, *(p for l in history.earlier_lists for p in l)]
    }
    fitting = [pid for pid in refs if words and all(word in titles.get(pid, "") for word in words)]
    return fitting or refs


def _compare(intent: Intent, text: str, history: History) -> Proposal:
    ordered = [p.product_id for p in _ordered(history.shown)]
    refs = intent.references
    if _TWO.search(text):  # "which of those two", "both": two, the first two of those referred to
        ids = [pid for pid in ordered if pid in refs][:2] if len(refs) >= 2 else ordered[:2]
    elif len(refs) >= 2:
        ids = refs
    elif len(ordered) == 2:
        ids = ordered[:2]
    else:
        ids = ordered[:4]
    if len(ids) < 2:
        return _ask("Which products should I compare?")
    positions = {p.product_id: p.position for p in history.shown}
    arguments = {"product_ids": ids[:4], "along": text[:200]}
    if all(pid in positions for pid in ids[:4]):
        arguments["positions"] = [positions[pid] for pid in ids[:4]]
    return Proposal(calls=(ToolCall("compare_products", arguments),))


def _interests(text: str) -> str:
    """The words of a vague message that are no everyday English ("he's 15 and into music" -> "music"):
    what the person cares about, for suggesting categories."""
    common = language.english_words()
    words = [
        word
        for word in re.findall(r"[a-z][a-z'-]+", text.lower())
        if word not in common and word not in _FILLER
    ]
    return " ".join(words)


def _chosen(intent: Intent, options: Sequence[str]) -> str | None:
    """The option of the last clarifying question that the shopper's answer picks, if any."""
    slots = intent.slots
    if slots.category:
        for option in options:
            if slots.category.startswith(option) or option.startswith(slots.category):
                return slots.category if slots.category.startswith(option) else option
    words = {word.lower().rstrip("s") for word in re.findall(r"[\w&]+", slots.query)}
    for option in options:
        names = {word.lower().rstrip("s") for word in re.findall(r"[\w]+", option) if len(word) > 2}
        if names & words:
            return option
    return None


def _ask(question: str) -> Proposal:
    return Proposal(calls=(ToolCall("ask_clarifying_question", {"question": question}),))


def _focused(history: History) -> list[int]:
    if history.focus is not None:
        return [history.focus]
    return [history.shown[0].product_id] if len(history.shown) == 1 else []


def _ordered(shown: Sequence[ShownProduct]) -> list[ShownProduct]:
    return sorted(shown, key=lambda product: product.position)


def _content(query: str) -> str:
    return " ".join(word for word in query.split() if word.lower().strip(",.!?") not in _FILLER)


def _catalog_words(intent: Intent) -> list[str]:
    """The message's product words that the catalog sells: a new kind of product named, not a question
    about one shown ("does it ship to Canada?" names none)."""
    return [word for word in intent.topic if word in intent.catalog_topic]


def topic_words(slots: Slots, vocabulary: Vocabulary) -> list[str]:
    """The words of a message that name a kind of product: not filler, not common English, not a colour,
    size or brand (those are read as filters)."""
    common = language.english_words()
    colors = {word for color in vocabulary.colors for word in color.lower().split()}
    brands = {word for brand in (*vocabulary.brands, *slots.exclude_brands) for word in brand.lower().split()}
    found = []
    for word in _content(slots.query).split():
        token = word.lower().strip(",.!?;:'\"()")
        if len(token) < 2 or token in common or token in colors or token in brands or token.isdigit():
            continue
        found.append(token)
    return found
