"""What the deterministic layer proposes to do about a message it has read (`intent.read`).

`propose` turns the reading and the dialogue state into a plan: a reply by policy, or tool calls with their
arguments filled in from the state. The local backend carries the plan out as it is; an openai backend falls
back on it when the model fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from market.assistant.agent import replies, state
from market.assistant.agent.history import History
from market.assistant.agent.intent import FILLER, TAKES_OUT, Intent, category_words
from market.assistant.agent.state import DialogueState, Need
from market.assistant.agent.tools import confirms_checkout
from market.assistant.llm.messages import ToolCall
from market.assistant.reading import language, policy
from market.assistant.reading.amounts import parse_number
from market.assistant.reading.attributes import turned_down_word
from market.assistant.reading.questions import (
    is_question,
)
from market.assistant.reading.references import ShownProduct, titles_have
from market.assistant.reading.words import stem

MAX_QUANTITY = 20
MAX_QUERY_CHARS = 200  # what the search tool takes; a longer message is cut, not refused
_TWO = re.compile(r"\b(?:the|these|those)\s+two\b|\bboth\b", re.IGNORECASE)
# Words that speak of the kind of product rather than of one shown ("any of those in black", "ones with").
_OF_THE_KIND = re.compile(
    r"\b(?:any|ones|those|these|others|anything|something|some|one\s+(?:with|in|that|for)|a\s+\w+er\s+one)\b",
    re.IGNORECASE,
)
# Asking for more products, not which of those shown: "anything cheaper than those?", "something else".
_MORE_OF = re.compile(r"^(?!.*\bwhich\b).*\b(?:anything|something|others)\b", re.IGNORECASE)
_EXPLICIT_REF = re.compile(
    r"\b(?:first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|4th|5th|6th|number\s+\d|no\.?\s*\d|option\s+\d)\b|#\s?\d",
    re.IGNORECASE,
)
# A position in the list, not "last year" or "the last one of theirs lasted a day".
_POSITION = re.compile(
    r"\b(?:first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|number\s+\d)\b|#\s?\d", re.IGNORECASE
)
# What the shopper had before: "the last pair rusted in a week", "my last one broke".
_ONES_OWN = re.compile(
    r"\b(?:the|my|our)\s+last\s+(?:one|ones|pair|set|\w+)\s+(?:i\s+|we\s+)?(?:had|bought|got|owned|rusted|broke|"
    r"lasted|died|fell|wore|was|were|snapped|leaked|tore|ripped)\b|"
    r"\blast\s+(?:year|month|week|night|time|summer|winter|spring|autumn|christmas)\b",  # "picked it up last year"
    re.IGNORECASE,
)
_THIS_ONE = re.compile(r"\b(?:it|its|it's|this|that|they|them|their)\b", re.IGNORECASE)
_THESE_ONES = re.compile(r"\b(?:it|its|it's|this|that|they|them|their|these|those)\b", re.IGNORECASE)
_REFINING = re.compile(
    r"\b(?:cheaper|pricier|less\s+expensive|more\s+expensive|other|others|different|else)\b", re.IGNORECASE
)
_SET_QUANTITY = re.compile(
    r"\b(?:make\s+(?:it|that|them|those)|change\s+(?:it|that)\s+to|instead|only|just)\b", re.IGNORECASE
)
_PRONOUN_SET = re.compile(r"make\s+(?:it|that)\b", re.IGNORECASE)
_NEW_QUANTITY = re.compile(
    r"\b(?:make\s+(?:it|that|them|those)(?:\s+(?:just|only))?|change\s+(?:it|that)\s+to|just|only)\s+"
    r"(?P<quantity>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a\s+single)\b"
    r"(?!\s*(?:of\s+the|more))",
    re.IGNORECASE,
)  # "make that just one", "only 2": a cart line's new quantity
_ASKS_CHECKOUT = re.compile(
    r"\b(?:check\s+me\s+out|take\s+me\s+to\s+(?:the\s+)?(?:checkout|payment)|let'?s\s+(?:check\s?out|pay)|"
    r"(?:i'?m\s+)?ready\s+to\s+(?:check\s?out|pay)|checkout\s+(?:please|pls|now)|check\s?out\s+now|"
    r"^\W*(?:(?:ok(?:ay)?|great|right|cool|so|now|and)\W+)*chec?k\s?out)\b",
    re.IGNORECASE,
)
_NO_CHECKOUT = re.compile(
    r"\b(?:don'?t|do\s+not|not|no|won'?t)\s+(?:\w+\s+){0,2}?(?:check(?:ing)?\s?out|checkout|pay(?:ing)?)\b",
    re.IGNORECASE,
)
_CHECKOUT_TOO = re.compile(
    r"\b(?:check\s?out|checkout|check\s+(?:me|us)\s+out|pay(?:ment)?|place\s+the\s+order)\b", re.IGNORECASE
)
_MANY = re.compile(r"\b(?:both|all|each|and|&|first\s+(?:two|three|\d))\b", re.IGNORECASE)
_ADD_CUE = re.compile(
    r"\b(?:add|put|throw|toss|grab|pop|stick|chuck|i'?ll\s+take|get\s+me|too|as\s+well|also|"
    r"in(?:to)?\s+(?:the|my|me)\s+(?:cart|basket|trolley))\b",
    re.IGNORECASE,
)
_PLACE = r"(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th|number\s+(?:\d|one|two|three|four|five)|#\s?\d)"
# A message that opens by taking something: "I'll take number 1", "ok add the second", "fine, put it in".
_ADD_FIRST = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|right|great|cool|perfect|lovely|fine|whatever|yes|yeah|yep|sure|alright|then|so|just|now|and|"
    r"plus)\W+)*"
    r"(?:i'?ll\s+(?:take|have|get|grab|buy)|i\s+will\s+(?:take|have|get|buy)|i'?d\s+like|"
    r"add|put|throw|toss|pop|stick|chuck|grab|gimme|give\s+me|"
    # "2 of the first one", "two x the 3rd": a count of a product shown
    rf"(?:\d+|one|two|three|four|five|six|a\s+couple|a\s+pair)\s+(?:x\s+|of\s+)(?:the\s+)?(?={_PLACE})|"
    rf"(?:and\s+|plus\s+)?the\s+{_PLACE}(?=(?:\s+[\w'-]+){{0,3}}\s+(?:too|as\s+well)\b)|"  # "and the first headlamp too"
    rf"(?:the\s+)?{_PLACE}(?=(?:\s+one)?\s+(?:please|pls|plz)\W*$))\b",  # "number two please"
    re.IGNORECASE,
)
_BARE_CHOICE = re.compile(rf"(?:the\s+)?{_PLACE}(?:\s+one)?", re.IGNORECASE)
_REMOVE_CUE = re.compile(
    r"\b(?:remove|delete|drop|ditch|lose|get\s+rid|take\s+(?:[\w'-]+\s+){0,4}(?:out|off)|out\s+of\s+(?:the|my)|"
    r"don'?t\s+(?:want|need))\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[,;.!?]+\s*|\s+(?:and|but|then)\s+", re.IGNORECASE)
_ABOUT_THE_CART = re.compile(
    r"\b(?:cart|basket|trolley|my\s+order|check\s?out|pay(?:ment)?)\b", re.IGNORECASE
)
# "and the second?", "what about number 3": the last question again, of another product.
_SAME_AGAIN = re.compile(
    r"^\W*(?:and|what\s+about|how\s+about|same\s+(?:for|with)|and\s+for)\b|^[^.!]{0,30}\?\s*$", re.IGNORECASE
)
_ANOTHER_KIND = re.compile(r"^\W*(?:ok(?:ay)?\W+)?(?:what|how)\s+about\b", re.IGNORECASE)
# A comparison asked, not a refinement ("which is cheaper?" compares; "show me cheaper ones" searches again).
# "longer than that" asks for longer ones than those shown: a refinement, not a comparison.
_COMPARING = re.compile(
    r"\b(?:which|what\s+one|than(?!\s+(?:that|those|these|them|this|the\s+ones?)\b)|vs\.?|versus|compare|"
    r"compared|comparing|between)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Proposal:
    """The layer's plan for a turn."""

    calls: tuple[ToolCall, ...] = ()
    # Search arguments without words: the model is asked for them (or the shopper, if it cannot).
    needs_query: dict[str, Any] | None = None
    confirm_checkout: bool = False  # checkout was hinted at, not asked for plainly: the cart and a question
    say: str | None = None  # a reply by policy, with no tool: a greeting, a refusal, "I only read English"
    kind: str | None = None  # what `say` is, for the turn's record
    prefix: str | None = None  # said before the tools' reply: a refusal beside a fair request
    state: DialogueState | None = None  # the dialogue state after this turn; None: unchanged


_ALSO_ADD = re.compile(
    r"\b(?:too|also|as\s+well|add|into|in\s+the\s+(?:cart|basket)|grab|take)\b", re.IGNORECASE
)  # "1st one into the cart" names no product


def propose(intent: Intent, text: str, history: History, *, asked: bool) -> Proposal:
    """The plan for this message, arguments filled in; a search shows as many products as were asked for
    ("show me three")."""
    proposal = _plan(intent, text, history, asked=asked)
    if intent.shown_count is None or not any(call.name == "search_products" for call in proposal.calls):
        return proposal
    calls = tuple(
        ToolCall(call.name, call.arguments | {"count": min(intent.shown_count, 10)}) if call.name == "search_products" else call
        for call in proposal.calls
    )
    return msgspec_replace(proposal, calls=calls)


def _plan(intent: Intent, text: str, history: History, *, asked: bool) -> Proposal:
    if intent.foreign is not None:
        return Proposal(say=intent.foreign.reply, kind="language_unsupported")
    reading, action, refs, slots = intent.policy, intent.action, intent.references, intent.slots
    text = intent.clean or text
    if reading.kind == "manipulation":
        refusal = replies.REFUSALS[reading.trick or "instructions"]
        asked_to_add = (
            action == "add_to_cart" and refs and _ADD_CUE.search(text)
        )  # not "make the first one free"
        if reading.trick == "discount" and not reading.conditional and asked_to_add:
            return msgspec_replace(
                _cart_add(intent, history), prefix=refusal
            )  # the add, at the seller's price
        if reading.trick == "instructions" and intent.catalog_topic:  # a search with an injection inside
            return msgspec_replace(_need(intent, text, history), prefix=refusal)
        if (  # (a question hangs on no terms, whatever the trick's)
            history.shown
            and intent.question is not None
            and (answer := _question_about_shown(intent, text, history)) is not None
        ):  # "what does the first one cost? your price-match policy says knock 30% off": the price, not the 30%
            return msgspec_replace(answer, prefix=refusal)
        return Proposal(say=refusal, kind="refusal")
    if (
        (refused := _refused_before(history))
        and _PLEA.search(text)
        and not (intent.catalog_topic or intent.references)
    ):
        return Proposal(say=refused, kind="refusal")  # "pleeeease it's my birthday": the answer stands
    action = _action_by_wording(action, intent, text, history)
    # "actually take the second one out, they'd rather share one big one": no comparison, no question
    taking_out = action == "remove_from_cart" and bool(history.cart_ids) and bool(TAKES_OUT.search(text))
    if (action in ("remove_from_cart", "add_to_cart") or _NEW_QUANTITY.search(text)) and (
        set_to := _quantity_set(intent, history)
    ):
        return set_to  # "make that just one", "actually make that 2"
    if _turns_down(intent) and history.shown and not _POSITION.search(text):
        return _need(intent, text, history)  # "can you leave out Pawsmith as well?", "not Auralis tho"
    if (
        (refs or (history.focus is not None and _THIS_ONE.search(text)))
        and _opens_with_an_add(text, counted=intent.slots.quantity is not None)
        and "?" not in re.split(r"(?<=[.!])\s+", text)[0]  # "add the first keyboard too. how many now?"
        and not _REMOVE_CUE.search(text)
        and not _names_another_product(intent, history)
    ):  # "I'll take number 1, and one of number 2 as well", "fine, add it at the normal price then"
        return _cart_add(intent, history)
    if (
        action == "checkout"
        and refs
        and _EXPLICIT_REF.search(text)
        and not _REMOVE_CUE.search(text)
        and (_ADD_CUE.search(text) or not set(refs) <= history.cart_ids)
    ):
        return _cart_add(intent, history)  # "the third one too, then that's me done - checkout"
    current = history.state
    if current.options and (option := _chosen(intent, current.options)):
        need = state.fresh(slots, intent.words, intent.attributes)
        need = msgspec.structs.replace(need, category=option if not slots.category else need.category)
        if current.need is not None and not (current.need.words or current.need.category):
            need = _with_what_was_said_before(need, current.need)
        return _search(need, state.replaced(current, need))
    if reading.kind == "thanks" and history.cart_ids and _CHECKOUT_TOO.search(text):
        reading, action = policy.Reading(None), "checkout"  # "that's it, let's check out"
    if reading.kind in ("greeting", "thanks", "identity", "off_topic"):
        return Proposal(say=replies.POLICY[reading.kind], kind=reading.kind)
    if history.shown and not taking_out and not _states_a_want(intent, text) and not _names_another_product(
        intent, history
    ):
        asks_for_more = bool(_MORE_OF.search(text) and _REFINING.search(text))  # "anything cheaper?"
        if (
            intent.comparison
            and not asks_for_more
            and (
                _COMPARING.search(text)
                or (not _filters_said(intent) and (action == "compare" or len(refs) >= 2))
            )
        ):
            return _compare(intent, text, history)
        question = _question_about_shown(intent, text, history)
        if question is not None:
            return question
    answered = history.asked_checkout and confirms_checkout(text, asked=True)  # "yep go ahead"
    if action == "checkout" and _REMOVE_CUE.search(text) and history.cart_ids:
        action = "remove_from_cart"  # "actually take the 2nd one out and lets check out": both, in order
    elif action == "checkout" and (answered or not intent.topic):  # "can I order bananas" asks for bananas
        if history.cart_ids and confirms_checkout(text, asked=asked):
            return Proposal(calls=(ToolCall("start_checkout", {}),))
        return Proposal(confirm_checkout=True)  # the cart is shown, with the question (or "it's empty")
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
        if _removal_clause(text) and _POSITION.search(text) and [pid for pid in refs if pid not in in_cart]:
            return _cart_add(intent, history)  # "put the 2nd notebook in, and take the pens out": both
        ids = (
            _in_cart_by_name(intent, history)
            or [pid for pid in refs if pid in in_cart]
            or (sorted(in_cart) if len(in_cart) == 1 else [])
        )
        if not ids:
            return _ask("Which product should I take out of your cart?")
        calls = tuple(ToolCall("remove_from_cart", {"product_id": pid}) for pid in ids[:4])
        if set(ids) < in_cart and _CHECKOUT_TOO.search(text) and confirms_checkout(text, asked=False):
            calls += (ToolCall("start_checkout", {}),)
        return Proposal(calls=calls)
    if (
        action == "compare"
        and history.shown
        and not _filters_said(intent)
        and not _names_another_product(intent, history)
    ):
        return _compare(intent, text, history)
    return _need(intent, text, history)


# Asking again for what was refused: "pleeeease", "come on", "just this once", "it's my birthday".
_PLEA = re.compile(
    r"\bple{2,}a*s+e*\b|\bplea{2,}s+e*\b|\bpleas{2,}e*\b|^\W*(?:please|pls|plz)\W*$|\bpretty\s+please\b|"
    r"\bcome\s+on\b|\bjust\s+(?:this\s+)?once\b|\bjust\s+this\s+one\s+time\b|\bit'?s\s+my\s+birthday\b|"
    r"\bi\s+(?:beg|promise)\b|\bnobody\s+will\s+know\b",
    re.IGNORECASE,
)


def _refused_before(history: History) -> str | None:
    """The refusal the previous reply gave, if it gave one."""
    last = next((m.content for m in reversed(history.messages) if m.role == "assistant"), "")
    return next((refusal for refusal in replies.REFUSALS.values() if last.startswith(refusal)), None)


def _action_by_wording(action: str, intent: Intent, text: str, history: History) -> str:
    """The action the message's own words make certain where the classifier read another: it learnt from
    generated sentences, and shoppers' cart and checkout wording is narrow enough to read exactly."""
    if action != "remove_from_cart" and history.cart_ids and TAKES_OUT.search(text) and not _ADD_CUE.search(text):
        action = "remove_from_cart"  # "oh wait, someone already got her that one, take it out pls"
    if action == "remove_from_cart" and not _REMOVE_CUE.search(text):
        if _ADD_CUE.search(text):
            action = "add_to_cart"  # "pop the second toaster in the basket as well"
        elif intent.catalog_topic:
            action = "search"  # "and a bread knife": a need, nothing taken out
    if action == "view_cart" and intent.catalog_topic and not _ABOUT_THE_CART.search(text):
        action = "search"  # "show me strollers"
    if action in ("view_cart", "checkout") and intent.broad and not _ABOUT_THE_CART.search(text):
        action = "search"  # "just got the keys to my first place!! what do i even need?? help": a question
    if (
        action != "checkout"
        and history.cart_ids
        and _ASKS_CHECKOUT.search(text)
        and not _ADD_CUE.search(text)
    ):
        action = "checkout"  # "thats it, check me out"
    # "put the third in my cart but don't check out yet"
    if action == "checkout" and _NO_CHECKOUT.search(text):
        if intent.references and _ADD_CUE.search(text):
            return "add_to_cart"
        if intent.catalog_topic:
            return "search"  # "don't check out yet. got string lights?"
        if _filters_said(intent):
            return "refine"  # "don't check out yet, still browsing. show me blush pink ones too"
        return "view_cart"
    return action


def _opens_with_an_add(text: str, *, counted: bool = False) -> bool:
    """Whether the message, or one of its clauses, opens by taking something: "I'll take number 1", "ok back
    to the boots, add the 1st boot you showed me"; with a count said (`counted`), a clause that only names
    a product shown takes it too: "nice, the second one. 3 of them, one per module"."""
    parts = [part for part in re.split(r"[,;.!]+\s*", text) if part]
    return any(_ADD_FIRST.search(part) for part in parts) or (
        counted and any(_BARE_CHOICE.fullmatch(part.strip()) for part in parts)
    )


def _states_a_want(intent: Intent, text: str) -> bool:
    """Whether the message asks for a value of what is shown, no question in it: "large size pls, shes a
    chunky girl" narrows the list; it neither asks the size of the products shown nor compares them."""
    said = bool(intent.attributes.wanted or intent.slots.size or intent.slots.colors)
    return said and not is_question(text) and bool(_PLEASE.search(text))


_PLEASE = re.compile(
    r"\b(?:please|pls|plz|if\s+poss(?:ible)?|if\s+you\s+can|if\s+you\s+have\s+(?:them|it|any))\b", re.IGNORECASE
)


def _turns_down(intent: Intent) -> bool:
    """Whether the message turns down a brand, colour, attribute value or category: a refinement of the
    list, whatever the action classifier read ("one more - leave out Quillmark" adds nothing)."""
    slots = intent.slots
    return bool(
        slots.exclude_brands or slots.exclude_colors or slots.exclude_categories or intent.attributes.excluded
    )


def _filters_said(intent: Intent) -> bool:
    """Whether the message states what it wants ("75ft or more", "under 40 quid"): "longer than that, 75ft
    or more" asks for longer ones, not which of those shown is longer."""
    return bool(intent.attributes.wanted or intent.slots.has_budget or intent.slots.size or intent.slots.colors)


def _question_about_shown(intent: Intent, text: str, history: History) -> Proposal | None:
    """A question about products already shown: "is the second one machine washable?", "does it ship to
    Canada?", and "and the second?" after a question about the first. A question about the kind of
    product ("any of those in black?", "anything cheaper?") searches again instead."""
    refs, asked = intent.references, history.state.asked
    if _ABOUT_THE_CART.search(text):
        return None  # "what's in my cart?" is about the cart, not a product
    if _ANOTHER_KIND.match(text) and intent.catalog_topic and not _EXPLICIT_REF.search(text):
        return None  # "what about studio headphones then": a search, not a question about those shown
    slots = intent.slots
    # "does it come with any kind of warranty?": a question about the product talked of
    # "where are these made?": a question about those shown, not a search for others of the kind
    of_this_one = intent.question is not None and is_question(text) and _THESE_ONES.search(text)
    about_the_kind = _REFINING.search(text) or (_OF_THE_KIND.search(text) and not of_this_one)
    about_the_kind = about_the_kind or intent.attributes.wanted
    # (a position makes it a question of those shown; "the last pair rusted in a week" is the shopper's own)
    if (about_the_kind or slots.colors or slots.has_budget or slots.size) and not _EXPLICIT_REF.search(
        _ONES_OWN.sub(" ", text)
    ):
        return None  # "anything cheaper?", "have you got it in sage green?": a search again
    question_like = bool(intent.question) or is_question(text)
    if intent.question and intent.question.named and not is_question(text) and not _EXPLICIT_REF.search(text):
        return None  # "for a queen bed": a value wanted of the kind, said with no question
    if (
        refs
        and not intent.question
        and asked
        and _SAME_AGAIN.search(text)
        and _EXPLICIT_REF.search(text)  # "and the second?"; "is it waterproof?" asks something new
        and intent.action != "compare"
    ):
        return _answers(refs, asked, history)  # "and the second?": the same question of another product
    if not question_like:
        return None
    if refs:
        return _answers(refs, text, history)
    if history.focus is not None and _THIS_ONE.search(text):
        return _answers([history.focus], text, history)
    if intent.question and len(history.shown) == 1:
        return _answers([history.shown[0].product_id], text, history)
    if intent.question and history.focus is not None:  # "and how long does a game take?" after "the 3rd one"
        return _answers([history.focus], text, history)
    if intent.question and is_question(text) and history.shown and not intent.catalog_topic:
        # "how long does a game take?" of a list: the first few products' answers
        return _answers([p.product_id for p in _ordered(history.shown)], text, history, most=3)
    return None


def _answers(ids: Sequence[int], question: str, history: History, *, most: int = 2) -> Proposal:
    need = history.state.need
    shown_in = {"show_prices_in": need.currency} if need and need.currency else {}  # the shopper's currency
    calls = tuple(
        ToolCall("answer_question", {"product_id": pid, "question": question[:300]} | shown_in)
        for pid in ids[:most]
    )
    after = msgspec.structs.replace(history.state, asked=question[:300], options=())
    return Proposal(calls=calls, state=after)


def _asking_sentence(text: str) -> str:
    """The first sentence of a message that says more than everyday words ("lovely. any of those in black?
    hides the dog hair" -> "any of those in black?"): what it asks; the sentences after give reasons."""
    common = language.english_words()
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if any(
            word not in common and word not in FILLER
            for word in re.findall(r"[a-z][a-z'-]*", sentence.lower())
        ):
            return sentence
    return text


def _in_cart_by_name(intent: Intent, history: History, *, text: str | None = None) -> list[int]:
    """The cart's products the message (or `text`, a part of it) names by their title's words ("take the
    leggings out", "remove the stuffed animal first"): those whose titles have the most of its words that
    some cart title has and not every one does (any, when the cart holds one product)."""
    titles = {
        pid: {stem(word) for word in re.findall(r"[a-z]{3,}", title.lower())}
        for pid, title in history.cart_titles.items()
    }
    if len(titles) < (1 if text is not None else 2):
        return []
    said = {
        stem(word) for word in re.findall(r"[a-z]{3,}", (text or intent.clean).lower()) if word not in FILLER
    }
    telling = {
        word
        for word in said
        if any(word in t for t in titles.values())
        and (len(titles) == 1 or not all(word in t for t in titles.values()))
    }
    scores = {pid: len(telling & words) for pid, words in titles.items()}
    best = max(scores.values(), default=0)
    return sorted(pid for pid, score in scores.items() if best and score == best)


def _names_another_product(intent: Intent, history: History) -> bool:
    """Whether the message names a kind of product other than those shown ("I need a monitor stand")."""
    if intent.outside_brand:
        return True  # "do you have lululemon?" asks for what is not on the screen
    if (
        intent.references
        and (intent.question is not None or intent.comparison is not None)
        and _EXPLICIT_REF.search(intent.clean)
    ):  # "do the first ones have noise cancelling or just block sound", "the first two, which sleeps more?"
        return False
    if intent.question is not None and history.focus is not None and _THIS_ONE.search(intent.clean):
        return False  # "does it come with a warranty if she chews through it?": about the one talked of
    if not intent.catalog_topic and not intent.slots.category:
        return bool(intent.topic) and not intent.references and intent.words != ""
    listed = [history.shown, *history.earlier_lists]
    referred = [products for products in listed if set(intent.references) <= {p.product_id for p in products}]
    in_view = (
        referred[0] if intent.references and referred else history.shown
    )  # "back to the mixers, the first"
    shown = " ".join(f"{p.title} {p.category}" for p in in_view).lower()
    category = intent.slots.category
    if intent.references and referred and category and any(p.category.startswith(category) for p in in_view):
        return False  # "back to the perfume, add the first one": the fragrances shown before
    if not intent.catalog_topic:  # only a category: "back to keyboards, put the second one in my cart"
        return not any(stem(word) in shown for word in category_words(intent.slots.category))
    if intent.slots.category and history.state.need and history.state.need.category:
        need = history.state.need.category
        if intent.slots.category.startswith(need) or need.startswith(intent.slots.category):
            return False
    return not any(stem(word) in shown for word in intent.catalog_topic)


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
    # "over-ear only" after wireless headphones: words the titles just shown have narrow the need.
    in_list = bool(need and intent.topic and not slots.category) and all(
        titles_have(history.shown, [word]) for word in intent.topic
    )
    # "and a toaster" after an electric kettle: another kind of product, though in the same category.
    said = {  # (not "no food then. a chew toy that'll survive him?": the food turned down is not asked again)
        stem(word) for word in re.findall(r"[\w'-]+", intent.clean.lower()) if not turned_down_word(intent.clean, word)
    }
    path = {stem(word) for word in re.findall(r"[a-z]+", (need.category or "").lower())} if need else set()
    another = bool(need and need.words) and any(stem(word) not in path for word in intent.catalog_topic)
    another = another and not any(stem(word) in said for word in need.words.lower().split())
    vague = need is not None and not (need.words or need.category or need.brand)  # a budget or an age only
    if (
        need is None
        or vague
        or (
            not in_list
            and (elsewhere or another or (names_product and not state.same_topic(need, slots, intent.topic)))
        )
    ):
        fresh = state.fresh(slots, intent.words, intent.attributes)
        if need is not None and need.currency and not fresh.currency:  # the shopper's currency stays theirs
            fresh = msgspec.structs.replace(fresh, currency=need.currency)
        if vague:
            fresh = _with_what_was_said_before(fresh, need)
        elif need is not None and need.occasion_budget and fresh.budget_min is None and fresh.budget_max is None:
            # "show me knives" after a present's budget and a look at pans: the present's budget still
            fresh = msgspec.structs.replace(
                fresh,
                budget_min=need.budget_min,
                budget_max=need.budget_max,
                currency=need.currency,
                occasion_budget=True,
            )
        if intent.outside_brand and need is not None and not fresh.category:
            # "I want the Sony WH-1000XM5": not carried; the alternatives are of the kind looked at
            fresh = msgspec.structs.replace(fresh, category=need.category)
        if intent.broad and not current.options:  # "for a camping trip": which kind of thing, first
            return _question(intent, fresh, current)
        if not (fresh.words or fresh.category or fresh.brand):
            if current.options and intent.suggestions:
                # Asked once already ("what kind of thing?"), answered with a person's interests ("he's into
                # music"): no second question; what suits them best, searched.
                fresh = msgspec.structs.replace(fresh, category=intent.suggestions[0])
                return _search(fresh, state.replaced(current, fresh))
            if len(intent.suggestions) >= 3:  # a need with nothing to search by: one question, with options
                return _question(intent, fresh, current)
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
        # a word said of the kind goes before its name, as titles say it ("any wooden ones?": wooden puzzle)
        kinds = {word.lower() for word in intent.catalog_topic}
        modifiers = [word for word in extra if word.lower() not in kinds]
        *before, head = refined.words.split() or [""]
        words = [*before, *modifiers, head, *(word for word in extra if word.lower() in kinds)]
        refined = msgspec.structs.replace(refined, words=" ".join(word for word in words if word))
    return _search(refined, DialogueState(need=refined, earlier=current.earlier))


def _with_what_was_said_before(fresh: Need, vague: Need) -> Need:
    """The need named after a vague one, with what was said with the vague one: "secret santa, £20 limit"
    then "something for his desk" is still under £20; "my niece turns 6" then "she loves building things"
    wants building sets for six-year-olds (where the kind has ages: the search drops it where not)."""
    if fresh.budget_max is None and fresh.budget_min is None:
        fresh = msgspec.structs.replace(
            fresh,
            budget_min=vague.budget_min,
            budget_max=vague.budget_max,
            currency=vague.currency,
            occasion_budget=vague.budget_min is not None or vague.budget_max is not None,
        )
    return msgspec.structs.replace(fresh, attributes=vague.attributes | fresh.attributes)


def _question(intent: Intent, fresh: Need, current: DialogueState) -> Proposal:
    """One clarifying question, its options the suggested categories; a budget said is kept for later."""
    question = replies.clarifying_question(intent.suggestions)
    # "my niece's 6th birthday, what would you suggest?": the budget and the age said wait for the answer
    kept = fresh if fresh.budget_max or fresh.budget_min or fresh.attributes else current.need
    after = DialogueState(need=kept, earlier=current.earlier, options=intent.suggestions)
    names = [option.rsplit(">", 1)[-1].strip() for option in intent.suggestions]
    call = ToolCall("ask_clarifying_question", {"question": question, "options": names})
    return Proposal(calls=(call,), state=after)


def _search(need: Need, after: DialogueState) -> Proposal:
    arguments = _arguments(need)
    if not arguments.get("query"):
        return Proposal(needs_query=arguments, state=after)
    return Proposal(calls=(ToolCall("search_products", arguments),), state=after)


def _arguments(need: Need) -> dict[str, Any]:
    words = need.words or (need.category or "").rsplit(">", 1)[-1].strip() or (need.brand or "")
    budgeted = need.budget_min is not None or need.budget_max is not None
    arguments: dict[str, Any] = {
        "query": words[:MAX_QUERY_CHARS],
        "category": need.category,
        "min_price": need.budget_min,
        "max_price": need.budget_max,
        "currency": need.currency if budgeted else None,
        "show_prices_in": need.currency if not budgeted else None,
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
    # "put the 2nd notebook in, and actually take the pens out": the add, and the removal
    if (clause := _removal_clause(intent.clean)) and (out := _in_cart_by_name(intent, history, text=clause)):
        calls += tuple(ToolCall("remove_from_cart", {"product_id": pid}) for pid in out if pid not in ids)
    elif _SWAP.search(intent.clean) and (swapped := _swapped_out(ids, history)) is not None:
        calls += (ToolCall("remove_from_cart", {"product_id": swapped}),)  # "swap it for the first one"
    # "put it in, then let's check out": the add, then the checkout (or, asked less plainly, the question)
    if _CHECKOUT_TOO.search(intent.clean) and not _NO_CHECKOUT.search(intent.clean):
        if confirms_checkout(intent.clean, asked=False):
            return Proposal(calls=(*calls, ToolCall("start_checkout", {})))
        return Proposal(calls=calls, confirm_checkout=True)
    return Proposal(calls=calls)


# One product exchanged for another in the cart: "swap it for the first one", "switch it to the blue one".
_SWAP = re.compile(
    r"\b(?:swap|switch|exchange|replace|trade)\s+(?:it|that|this|that\s+one|this\s+one|them)\b|"
    r"\binstead\s+of\s+(?:it|that|this|that\s+one|this\s+one)\b",
    re.IGNORECASE,
)


def _swapped_out(added: Sequence[int], history: History) -> int | None:
    """The cart's product that a swap gives up: the only other one in the cart, or the one talked of last."""
    others = [pid for pid in sorted(history.cart_ids) if pid not in added]
    if len(others) == 1:
        return others[0]
    return history.focus if history.focus in others else None


def _removal_clause(text: str) -> str | None:
    """The part of a message that takes something out, when another part adds: "put the 2nd notebook in,
    and actually take the pens out" -> "actually take the pens out"."""
    clauses = _CLAUSES.split(text)
    for clause in clauses:
        if _REMOVE_CUE.search(clause) and not _ADD_CUE.search(clause):
            # "take them out, I'll run it past him first": nothing else is added
            return clause if any(_ADD_CUE.search(other) for other in clauses if other is not clause) else None
    return None


def _quantity_set(intent: Intent, history: History) -> Proposal | None:
    """ "make that just one", "only 2 of them": a new quantity of the product last added (or the cart's only
    one), set rather than added."""
    said = _NEW_QUANTITY.search(intent.clean)
    if not (intent.slots.quantity and said and history.cart_ids):
        return None
    in_cart = history.cart_ids
    meant = [pid for pid in intent.references if pid in in_cart]
    if intent.references and not meant and not _PRONOUN_SET.match(said.group(0)):
        return None  # "only 2 of the third one": an add, of a product not in the cart yet
    # ("we hired someone last week, make it 5": "it" is the cart's line, whatever other words matched)
    ids = (
        _in_cart_by_name(intent, history)
        or meant
        or ([history.focus] if history.focus in in_cart else sorted(in_cart) if len(in_cart) == 1 else [])
    )
    if len(ids) != 1:
        return None
    # "actually make it 2, one of them quit": the number the new quantity names, not the first one said
    named = 1 if said["quantity"].lower().startswith("a") else parse_number(said["quantity"])
    quantity = min(int(named) if named else intent.slots.quantity, MAX_QUANTITY)
    call = ToolCall("add_to_cart", {"product_id": ids[0], "quantity": quantity, "exact": True})
    return Proposal(calls=(call,))


def _meant(intent: Intent, history: History) -> list[int]:
    """The products referred to; of several matched by a word ("the 320 piece one"), those of what the
    shopper is looking for when that tells them apart."""
    refs = intent.references
    if len(refs) <= 1 or _MANY.search(intent.clean) or not history.state.need:
        return refs
    if not set(refs) <= {p.product_id for p in history.shown}:
        return refs  # "the first collar and the 2nd pen": counted in two lists, both meant
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
    if _TWO.search(text) and len(refs) < 2 and len(history.compared) == 2:
        ids = history.compared  # "of numbers two and three, which ...?", then "which of those two is cheaper?"
    elif _TWO.search(text):  # "which of those two", "both": two, the first two of those referred to
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
    if history.state.need and history.state.need.currency:  # compared in the shopper's currency
        arguments["show_prices_in"] = history.state.need.currency
    if all(pid in positions for pid in ids[:4]):
        arguments["positions"] = [positions[pid] for pid in ids[:4]]
    return Proposal(calls=(ToolCall("compare_products", arguments),))


def _chosen(intent: Intent, options: Sequence[str]) -> str | None:
    """The option of the last clarifying question that the shopper's answer picks, if any."""
    slots = intent.slots
    if slots.category:
        for option in options:
            if slots.category.startswith(option) or option.startswith(slots.category):
                return slots.category if slots.category.startswith(option) else option
    words = {word.lower()[:5] for word in re.findall(r"[\w&]+", slots.query) if len(word) > 3}
    for option in options:  # "clothes" picks Clothing: the words' first five letters
        names = {word.lower()[:5] for word in re.findall(r"[\w]+", option) if len(word) > 3}
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


def _catalog_words(intent: Intent) -> list[str]:
    """The message's product words that the catalog sells: a new kind of product named, not a question
    about one shown ("does it ship to Canada?" names none)."""
    return [word for word in intent.topic if word in intent.catalog_topic]
