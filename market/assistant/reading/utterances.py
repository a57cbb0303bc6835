"""Labelled shopper utterances, generated from the catalog's words, to train the action classifier on.

Each action has its own phrasings (templates) whose slots are filled from a `Vocabulary`: products, brands,
colours, sizes, budgets and references to products already shown. Fillers, typos and casing vary the text
the way people type. Everything comes from one seeded `random.Random`, so a seed always gives the same
utterances, in every process; the template each came from is kept so that an evaluation can hold whole
phrasings out.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Literal, get_args

import msgspec

from market.assistant.reading.vocabulary import Vocabulary, plural

# What a shopper's message asks for; the classifier in market.assistant.reading.actions predicts one of these.
Action = Literal[
    "search",
    "refine",
    "ask_product",
    "compare",
    "add_to_cart",
    "remove_from_cart",
    "view_cart",
    "checkout",
    "chit_chat",
]
ACTIONS: tuple[str, ...] = get_args(Action)


class LabelledUtterance(msgspec.Struct, frozen=True):
    text: str
    action: str
    has_shown: bool  # whether products had been shown before this utterance
    template: str  # "<action>:<index>" of the phrasing it came from


# Per action: the share of utterances said with products already on screen, and the phrasings.
# Slots: {product} {a_product} {products} {budget} {amount} {color} {brand} {size} {qty} {ref} {ref2}
# {refs} {use} {quality} {feature} {material}
TEMPLATES: dict[str, tuple[float, tuple[str, ...]]] = {
    "search": (0.35, (
        "{products}", "{products} {budget}", "show me {products}", "show me {products} {budget}",
        "i'm looking for {a_product}", "i need {a_product} {budget}", "do you have {products}?",
        "do you sell {products}", "any {products} {budget}?", "find me {a_product} in {color}",
        "looking for {color} {products}", "can you find me {a_product} {use}", "i want to buy {a_product}",
        "search for {brand} {products}", "got any {brand} {products}?", "{brand} {products} size {size}",
        "recommend {a_product} {budget}", "what {products} do you have", "i need something {use}",
        "help me find {a_product}", "i'm shopping for {a_product} {budget}", "what's a good {product} {use}?",
        "best {products} {budget}", "{a_product} that is {quality}", "now i need {a_product}",
        "next, {products} please", "also looking for {a_product}", "different thing: do you have {products}?",
        "i'd like {a_product} with {feature}", "{color} {product} size {size} {budget}",
        "where can i find {products}", "need {qty} {products} {use}", "gift idea {use} {budget}",
        "let's look at {products} now", "switching topics, {products} {budget}",
    )),
    "refine": (1.0, (
        "cheaper", "something cheaper", "cheaper ones please", "anything cheaper?", "{budget} instead",
        "only {budget}", "what about {budget}", "can you show me ones {budget}", "in {color}",
        "what about in {color}?", "do you have these in {color}", "only {color} ones", "only {brand}",
        "just {brand} please", "show me only {brand} ones", "size {size} only", "any of these in size {size}?",
        "in stock only", "only the ones in stock", "show me more", "more options", "more like these",
        "something similar but {quality}", "not {color}", "anything but {color}", "without {brand}",
        "i prefer {material}", "{material} ones only", "bigger ones", "something smaller",
        "more expensive ones", "higher quality ones", "show me the {color} ones instead", "sort by price",
        "lowest price first", "too expensive, {budget}", "those are too pricey", "nothing in {color}?",
        "can you narrow it down to {brand}", "filter to {color}", "same but {budget}",
        "do any of them come in {color}", "only ones with {feature}", "hmm, different colors?",
        "change the budget to {amount}", "make it {budget}", "none of these, other options?",
        "show similar ones from other brands",
    )),
    "ask_product": (1.0, (
        "tell me more about {ref}", "more details on {ref}", "what is {ref} made of?", "is {ref} {quality}?",
        "does {ref} come in {color}?", "does {ref} have {feature}?", "what sizes does {ref} come in",
        "how much is {ref}?", "what's the price of {ref}", "is {ref} in stock?", "how many of {ref} are left",
        "who sells {ref}", "can you describe {ref}", "what colors does {ref} come in", "how big is {ref}",
        "is it {quality}?", "does it have {feature}?", "is {ref} good {use}?", "info on {ref}",
        "details about {ref} please", "what's special about {ref}", "what do you know about {ref}",
        "how heavy is {ref}", "is {ref} available in size {size}?", "what's the material of {ref}",
        "does it come in size {size}", "what does {ref} look like", "tell me about it",
        "what's the description of {ref}", "is that one any good?",
        "would {ref} work {use}?",
    )),
    "compare": (1.0, (
        "compare {refs}", "compare {ref} and {ref2}", "what's the difference between {ref} and {ref2}",
        "which is better, {ref} or {ref2}?", "{ref} vs {ref2}", "{ref} or {ref2}?",
        "how does {ref} compare to {ref2}", "which one should i get", "which would you recommend",
        "which of these is best {use}", "which is cheaper, {ref} or {ref2}", "side by side please",
        "compare them", "help me choose between {refs}", "pros and cons of {refs}", "which is lighter",
        "is {ref} better than {ref2}?", "which one has {feature}?", "can you compare prices of {refs}",
        "{refs}: which is the better deal", "what's better for {use}, {ref} or {ref2}",
        "how are {refs} different", "put {refs} side by side", "i can't decide between {ref} and {ref2}",
        "which of {refs} is more {quality}", "rank these for me", "differences between {refs}?",
    )),
    "add_to_cart": (0.85, (
        "add {ref} to my cart", "add {ref} to cart", "add {ref}", "put {ref} in my cart", "i'll take {ref}",
        "i want {ref}", "buy {ref}", "get me {ref}", "add {qty} of {ref} to my cart", "add {qty} of those",
        "i'll take {qty}", "add it", "add that", "add to cart", "yes add it", "sounds good, add it to my basket",
        "put it in the basket", "i'll go with {ref}", "let's go with {ref}", "add {ref} in size {size}",
        "add {ref} in {color}", "grab {ref} for me", "throw {ref} in the cart", "add both", "cart {ref}",
        "add {a_product} to my cart", "put {qty} {products} in my cart", "i'd like to buy {ref}",
        "{ref} please, add it", "ok add {qty} of it to the cart", "perfect, i'll get {ref}",
        "add {ref} to my bag", "yes please add {ref}", "buy {qty} of {ref}",
    )),
    "remove_from_cart": (0.5, (
        "remove {ref} from my cart", "remove the {product} from my cart", "take {ref} out of my cart",
        "delete {ref} from the basket", "i don't want {ref} anymore", "remove it", "get rid of the {product}",
        "drop the {product}", "empty my cart", "clear the cart", "remove everything from my cart",
        "take the {product} out", "actually remove that", "never mind the {product}, remove it",
        "cancel the {product}", "i changed my mind about the {product}, take it out", "remove one {product}",
        "delete the {product}", "take {ref} off my list", "remove the {brand} one from the cart",
        "i no longer need the {product}", "undo adding the {product}", "remove all items",
        "get the {product} out of my basket", "scrap the {color} {product}",
    )),
    "view_cart": (0.5, (
        "what's in my cart", "show me my cart", "show cart", "view cart", "my cart", "cart?",
        "what did i add", "what have i got so far", "how much is in my cart", "what's my total", "cart total?",
        "list my cart", "what's in my basket", "show my bag", "can i see my cart",
        "how many items are in my cart", "review my cart", "what am i buying", "open my cart",
        "what's the total so far", "did you add the {product} to my cart?", "is the {product} in my cart",
        "show me what i've picked", "what does my cart look like", "cart contents please",
    )),
    "checkout": (0.5, (
        "checkout", "check out", "checkout please", "i'm ready to check out", "let's check out",
        "proceed to checkout", "go to checkout", "i want to pay", "pay now", "take me to payment",
        "place the order", "place my order", "yes, place the order", "confirm the order",
        "complete the purchase", "buy everything in my cart", "i'm done, let's pay", "finish my order",
        "ready to pay", "yes, checkout", "go ahead and check out", "let's pay for this", "i'll pay now",
        "how do i pay", "that's everything, checkout", "yes i confirm, buy it all", "send me the payment link",
        "let's complete the order", "i'm ready to buy", "order it all",
    )),
    "chit_chat": (0.4, (
        "hi", "hello", "hey there", "good morning", "thanks", "thank you so much", "cool", "ok", "great",
        "who are you", "what can you do", "are you a bot", "how are you", "bye", "see you later",
        "tell me a joke", "what's the weather like", "you're very helpful", "lol", "nice", "what is agora",
        "how does this work", "never mind", "nothing", "i'm just browsing", "what time is it",
        "can you help me", "help", "good evening", "hmm", "awesome, thanks", "that's all for now",
        "who made you", "are you human?", "what's your name", "i'm bored",
    )),
}  # fmt: skip

_USES = (
    "for running", "for hiking", "for the office", "for my kid", "for camping", "as a gift", "for travel",
    "for my dog", "for the kitchen", "for the gym", "for my mom", "for winter", "for the beach",
    "for working from home", "for a newborn", "for the garden", "for my commute",
)  # fmt: skip
_QUALITIES = (
    "waterproof", "lightweight", "durable", "wireless", "machine washable", "comfortable", "warm",
    "easy to clean", "good quality", "sturdy", "quiet", "compact", "eco-friendly", "dishwasher safe",
)  # fmt: skip
_FEATURES = (
    "noise cancelling", "a warranty", "pockets", "a hood", "free shipping", "long battery life",
    "a nonstick coating", "usb-c", "bluetooth", "a padded insole", "adjustable straps", "a lid",
)  # fmt: skip
_MATERIALS = ("leather", "cotton", "wool", "stainless steel", "bamboo", "mesh", "canvas", "silicone", "linen")
_CURRENCY_FORMS = (
    "${}", "{} dollars", "{} bucks", "€{}", "{} euros", "£{}", "{} pounds", "{}", "{}", "{} usd", "{}€",
)  # fmt: skip
_BUDGET_FORMS = (
    "under {m}", "below {m}", "less than {m}", "for less than {m}", "around {m}", "about {m}", "{m} max",
    "no more than {m}", "up to {m}", "between {m} and {m2}", "{m} or less", "within {m}", "max {m}",
    "budget {m}", "over {m}", "at least {m}", "cheap", "affordable", "under {m} please", "{m}-ish",
)  # fmt: skip
_REFS = (
    "the first one", "the second one", "the third one", "the 2nd", "number 2", "#3", "the last one",
    "the {color} one", "the {brand} one", "the {brand}", "the cheaper one", "the cheapest one",
    "the most expensive one", "that one", "this one", "it", "the {product}", "option 3", "the top one",
    "the {color} {product}", "the one from {brand}", "the 4th", "the first", "the last",
)  # fmt: skip
_REF_GROUPS = (
    "the first two", "the first and second", "1 and 3", "both", "these two", "the top three",
    "the {color} one and the {color2} one", "the {brand} and the {brand2}", "all of them", "options 2 and 4",
    "them", "the last two", "number 1 and number 2", "the two {products}",
)  # fmt: skip
_PREFIXES = ("",) * 12 + ("hey ", "ok ", "ok, ", "um ", "so ", "please ", "hi, ", "hmm, ", "alright, ", "and ")  # fmt: skip
_SUFFIXES = ("",) * 10 + ("?", "!", ".", " please", " pls", " thanks", " thx", " :)", " now")
_NUMBER_WORDS = ("two", "three", "four", "2", "3", "4", "5", "a couple of", "10")
_KEYBOARD_NEIGHBOURS = dict(zip("abcdefghijklmnopqrstuvwxyz", "svxswghjuklknmpowearyceztx", strict=True))


def _budget(rng: random.Random) -> str:
    low = rng.choice((10, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300, 500))
    currency = rng.choice(_CURRENCY_FORMS)
    form = rng.choice(_BUDGET_FORMS)
    cents = rng.choice(("", "", "", ".99", ".50"))
    return form.format(m=currency.format(f"{low}{cents}"), m2=currency.format(low * rng.choice((2, 3))))


class _Filler:
    """Fills one template's slots with words drawn from the vocabulary."""

    def __init__(self, vocabulary: Vocabulary, rng: random.Random) -> None:
        self.rng = rng
        self.nouns = vocabulary.nouns or ("thing",)
        self.brands = vocabulary.brands or ("Acme",)
        self.colors = tuple(c.lower() for c in vocabulary.colors) or ("black",)
        self.sizes = vocabulary.sizes or ("M",)

    def slot(self, name: str) -> str:
        rng = self.rng
        noun = rng.choice(self.nouns)
        makers: dict[str, Callable[[], str]] = {
            "product": lambda: noun,
            "products": lambda: plural(noun),
            "a_product": lambda: f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}",
            "budget": lambda: _budget(rng),
            "amount": lambda: rng.choice(_CURRENCY_FORMS).format(rng.choice((20, 50, 80, 100, 150))),
            "color": lambda: rng.choice(self.colors),
            "color2": lambda: rng.choice(self.colors),
            "brand": lambda: rng.choice(self.brands),
            "brand2": lambda: rng.choice(self.brands),
            "size": lambda: rng.choice(self.sizes),
            "qty": lambda: rng.choice(_NUMBER_WORDS),
            "use": lambda: rng.choice(_USES),
            "quality": lambda: rng.choice(_QUALITIES),
            "feature": lambda: rng.choice(_FEATURES),
            "material": lambda: rng.choice(_MATERIALS),
            "ref": lambda: self.fill(rng.choice(_REFS)),
            "ref2": lambda: self.fill(rng.choice(_REFS)),
            "refs": lambda: self.fill(rng.choice(_REF_GROUPS)),
        }
        return makers[name]()

    def fill(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda match: self.slot(match.group(1)), template)


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the fingers: two letters swapped, one dropped, doubled or hit next door."""
    if len(word) < 4 or not word.isalpha():
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 1:
        return word[:at] + word[at + 1 :]
    if kind == 2:
        return word[:at] + word[at] + word[at:]
    return word[:at] + _KEYBOARD_NEIGHBOURS.get(word[at], word[at]) + word[at + 1 :]


def _vary(text: str, rng: random.Random) -> str:
    """Fillers around the sentence, the odd typo, and casing as people type it."""
    text = rng.choice(_PREFIXES) + text
    if not text.endswith(("?", "!", ".")):
        text += rng.choice(_SUFFIXES)
    if rng.random() < 0.2:
        words = text.split(" ")
        for _ in range(rng.choice((1, 1, 2))):
            index = rng.randrange(len(words))
            words[index] = _typo(words[index], rng)
        text = " ".join(words)
    casing = rng.random()
    if casing < 0.2:
        text = text[:1].upper() + text[1:]
    elif casing < 0.25:
        text = text.upper()
    elif casing < 0.3:
        text = text.title()
    return " ".join(text.split())


def generate_utterances(
    vocabulary: Vocabulary, *, seed: int = 0, per_action: int = 500
) -> list[LabelledUtterance]:
    """`per_action` labelled utterances for each action, the same for the same vocabulary and seed."""
    rng = random.Random(f"agora-assistant-utterances:{seed}")
    filler = _Filler(vocabulary, rng)
    utterances = []
    for action in ACTIONS:
        shown_share, templates = TEMPLATES[action]
        for _ in range(per_action):
            index = rng.randrange(len(templates))
            text = _vary(filler.fill(templates[index]), rng)
            has_shown = rng.random() < shown_share
            utterances.append(LabelledUtterance(text, action, has_shown, f"{action}:{index}"))
    return utterances
