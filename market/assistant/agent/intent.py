"""The deterministic layer's reading of a shopper's message: an `Intent`.

`read` runs the layer's parts on the message: the language, what policy makes of it (small talk,
off-topic, an attempt to bend the rules), `understand` (budget, colours, brands and what is turned down,
category, search words), the action classifier, references to products shown, a question about a product
and a comparison. `proposals.propose` decides what to do about it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from market.assistant.agent import replies, state
from market.assistant.agent.carried import Missing, missing_brand, missing_product, unheard_pair
from market.assistant.agent.history import History
from market.assistant.agent.state import Need
from market.assistant.agent.tools import confirms_checkout
from market.assistant.reading import (
    language,
    policy,
    quantities,
    references,
    spelling,
    synonyms,
    understanding,
)
from market.assistant.reading.amounts import WORD_NUMBER, parse_number, read_budget
from market.assistant.reading.attributes import (
    AttributeReading,
    read_attributes,
    turned_down,
    turned_down_word,
)
from market.assistant.reading.questions import (
    Comparison,
    Question,
    home_currency,
    read_comparison,
    read_question,
)
from market.assistant.reading.request import asks, asks_if_sold, requested
from market.assistant.reading.understanding import Slots
from market.assistant.reading.vocabulary import Vocabulary, title_words
from market.assistant.reading.words import generic_head, singular, together

# Words of a message that add nothing to the search itself: "show me some other cheaper ones".
_FILLER_WORDS = (
    "show me some any other others more ones one those these them cheaper cheap less expensive lower priced "
    "affordable instead something else different in a an the with without please only just what about how "
    "do you have got ok okay sure yes no maybe like i want need looking for find get see please pls thanks "
    "then now actually hmm um well so also too again anything everything stuff things item items product products "
    "ooh oh ah ugh meh wow hey yeah yep nope tho though lol haha colour color colours colors after poss "
    "hes shes im ive id ill dont cant wont theyre youre thats whats isnt arent didnt doesnt search "
    "my our your his their guess reckon probably decent gadget gadgets gizmo gizmos goodies essentials cool neat "
    "gift gifts present presents pressie prezzie shame fair whatever alright eh yikes oof ouch eek jeez geez "
    "blimey crikey bummer reality forget"
)
FILLER = frozenset(_FILLER_WORDS.split())
_CART_PLACE = re.compile(
    r"\b(?:in|into|to|from|out\s+of)\s+(?:the|my|me|your)?\s*(?:cart|basket|trolley|bag)\b", re.IGNORECASE
)


class Classifier(Protocol):
    """The action classifier: which of the nine actions a message asks for, and how sure it is."""

    def predict(self, text: str, *, has_shown: bool) -> tuple[str, float]: ...


@dataclass(frozen=True)
class Layer:
    """The deterministic parts, injected so that tests (and other catalogs) can bring their own.
    `suggest(text, among=None)`: 3-5 category paths of the live catalog that could suit a vague need,
    among those `among(path)` accepts. `lean(text)`: the department (or category) a need told as a situation
    points to by meaning ("my feet are dying after 12-hour shifts": Shoes), None when it points to several."""

    vocabulary: Vocabulary
    classifier: Classifier
    understand: Callable[..., Slots] = understanding.understand
    resolve: Callable[..., list[int]] = references.resolve_reference
    suggest: Callable[..., list[str]] = lambda text, among=None: []
    lean: Callable[[str], str | None] = lambda text: None


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
    broad: bool = False  # only a broad category is named ("for a camping trip"): `suggestions` are its kinds
    catalog_topic: tuple[str, ...] = ()  # those of `topic` that the catalog's titles and categories have
    title_words: tuple[str, ...] = ()  # words only a title says ("over-ear"): see `vocabulary.title_words`
    describes_need: bool = False  # attribute values of what is being looked for: a refinement
    words: str = ""  # the search words of what the message asks for
    attributes: AttributeReading = field(default_factory=AttributeReading)
    clean: str = ""  # the message as read: the catalog's words, without attempts to bend the rules
    outside_brand: bool = False  # a well-known brand the catalog does not list is named
    shown_count: int | None = None  # how many products the shopper asked to see ("show me three")

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


def read(layer: Layer, text: str, history: History, *, currency: str) -> Intent:
    vocabulary = layer.vocabulary
    normal = _units_said(synonyms.normalized(spelling.corrected(text, vocabulary)))
    shown_count = _display_count(normal)
    normal = _without_display_count(normal)
    trick = policy.read(normal, shopping=True)
    clean = policy.without_tricks(normal) if trick.kind == "manipulation" else normal
    # "into the cart", "in my basket": where things go, not a product ("Hose Reel Cart"); "scratch the
    # size": a condition dropped (`state.refined` reads it), not a product either.
    said = _SIMILE.sub(" ", _CART_PLACE.sub(" ", state.DROPPED.sub(" ", clean)))
    if history.state.need is not None:  # "4-season only, we're going up into the mountains"
        said = _without_reasons(said, vocabulary, refining=True)
    else:  # "a puffer jacket, any colour except black - I own far too many black coats"
        said = _without_reasons(said, vocabulary, refining=False)
    # "scrap the pram, just baby bottles": a kind turned down names neither the need nor its category.
    # (A brand's words are the brand's: "no whisker works" turns the brand down, not "works".)
    unbranded = vocabulary.brand_pattern.sub(" ", said) if vocabulary.brand_pattern else said
    dropped = [
        word
        for word in re.findall(r"[\w'-]+", unbranded)
        if vocabulary.names_a_kind(word) and turned_down_word(said, word)
    ]
    for word in dropped:
        said = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", said)
    slots = layer.understand(said, vocabulary, currency_default=currency)
    # the kind said, or the one looked at: "on reflection a large would fit better" of the hoodies shown
    sized_kind = slots.category or (history.state.need.category if history.state.need else None)
    if (
        slots.size is None
        and sized_kind
        and (
            sized := _sized_here(said, sized_kind, vocabulary)
            or _described_size(clean, sized_kind, vocabulary)
        )
    ):
        slots = msgspec.structs.replace(slots, size=sized)  # "medium dog collar": its products come in sizes
    elif (
        slots.size is None
        and history.state.need is not None
        and history.state.need.size
        and (sized := _size_again(said, slots, vocabulary))
    ):
        slots = msgspec.structs.replace(slots, size=sized)  # "size 9", then "no wait, nine and a half"
    if slots.size and (corrected := _size_corrected(said, vocabulary)):
        slots = msgspec.structs.replace(slots, size=corrected)  # "size 9. no wait, ten, I went up a size"
    if two := _TWO_SIZES.search(said):  # "she's a 9, or a 9 and a half with thick socks"
        sizes = [_size_said(two["a"], two["ahalf"], vocabulary), _size_said(two["b"], two["bhalf"], vocabulary)]
        if all(sizes) and sizes[0] != sizes[1]:
            slots = msgspec.structs.replace(slots, size=" or ".join(sizes))  # type: ignore[arg-type]
            said = said[: two.start()] + " " + said[two.end() :]
    if slots.size:  # "bike helmet size S", "large or extra large": a filter, not words a title must have
        said = re.sub(
            rf"\b(?:size|sz|sized)\s*:?\s*(?:an?\s+)?{re.escape(slots.size)}(?![\w.])",
            " ",
            said,
            flags=re.IGNORECASE,
        )
        if " " in slots.size and not slots.size[:1].isdigit():
            said = re.sub(rf"(?<![\w-]){re.escape(slots.size)}(?![\w-])", " ", said, flags=re.IGNORECASE)
    if slots.currency is None and (home := home_currency(clean)):  # "i'm in the UK": prices in pounds
        slots = msgspec.structs.replace(slots, currency=home)

    refining = history.state.need is not None

    def names_here(word: str) -> bool:
        if refining and _part_of_it(said, word, slots.colors):
            return False  # "black or navy cover only" of notebooks: their cover, not a duvet cover
        return not turned_down_word(said, word) and not _said_otherwise(said, word)

    known = [w for w in topic_words(slots, vocabulary) if vocabulary.names_a_kind(w) and names_here(w)]
    message = [word for word in re.findall(r"[\w'-]+", said) if names_here(word)]
    kinds = [word for word in message if vocabulary.names_a_kind(word) and not generic_head(word)]
    unsold = [word for word in message if _unknown_words(word, vocabulary)]
    asking = _without_turned_down(said, kinds)  # what is asked for, not where a kind is turned down
    phrase = requested(asking, kinds, unsold)
    # A phrase naming only a department, or said after the opening, gives way to one naming what products'
    # titles are named by: "lives in his garden. maybe decent pruning shears" asks for the shears, "an
    # enameled dutch oven, want to start doing no-knead bread" the dutch oven; "grain free dog food, big
    # bag" still asks for the food.
    titled = [
        word
        for word in kinds
        if singular(word.lower()) in vocabulary.heads
        and not re.search(rf"\b{re.escape(word)}\s+of\b", said, re.IGNORECASE)  # "a 15kg bag of grain free"
    ]
    in_phrase = [word for word in kinds if _has_word(phrase or "", [word])]
    if (
        phrase
        and titled
        and not _has_word(phrase, titled)
        and (
            all(singular(word.lower()) in vocabulary.path_words for word in in_phrase)
            or not said.lower().lstrip(" ,.!?").startswith(phrase.lower())
        )
    ):
        phrase = requested(asking, titled, unsold) or phrase
    if phrase and kinds and len(phrase.split()) > _LONG_PHRASE:  # a story around the thing asked for
        phrase = _around_kinds(phrase, kinds, vocabulary)
    if phrase:  # "plush penguin for a toddler?": the title words said after the kind
        phrase = _with_title_words_after(phrase, asking, vocabulary)
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
    if phrase and (
        asks_if_sold(said)  # "do you sell calculators": a product, whatever else English calls it
        or (asks(said) and _names_unsold(phrase, vocabulary))  # "need a set of golf clubs for my dad"
    ):
        unknown += [word for word in _asked_unsold(phrase, vocabulary) if word not in unknown]
    named = bool(slots.category or slots.brand or slots.exclude_brands or known)
    reading = trick if trick.kind else policy.read(clean, shopping=named)
    if reading.kind == "off_topic" and said.strip() and not policy.read(said, shopping=named).kind:
        reading = policy.Reading(None)  # "10 or 12 inch, the 8 inch ones are too small for her cornbread recipe"
    action, confidence = layer.classifier.predict(clean, has_shown=bool(history.shown))
    if history.asked_checkout and confirms_checkout(clean, asked=True):
        action, confidence = "checkout", 1.0  # "yes" answers the question the assistant just asked
    shown = history.shown
    # "back to keyboards, put the second one in": a category named without a kind word names the list too
    named_kinds = known or category_words(slots.category)
    def shows_them(listed: list) -> bool:  # by their titles, or by the category read ("perfume": fragrance)
        return references.titles_have(listed, named_kinds) or (
            slots.category is not None and any(p.category.startswith(slots.category) for p in listed)
        )

    if named_kinds and shown and not shows_them(shown) and not TAKES_OUT.search(clean):
        # (not "put the 2nd in, and take the pens out": the pens named are the cart's, not a list's)
        # "going back to the mixers, add the first one": the first of the list that showed mixers
        earlier = [listed for listed in reversed(history.earlier_lists) if shows_them(listed)]
        shown = earlier[0] if earlier else shown
    refs = layer.resolve(clean, shown, focus=history.focus) if shown else []
    if not refs and trick.kind == "manipulation" and history.shown:  # "knock 30% off the first one"
        refs = layer.resolve(normal, history.shown, focus=history.focus)
    if not refs and history.earlier_lists:  # "add the tent from before": a product of an earlier list
        for shown in reversed(history.earlier_lists):
            if found := layer.resolve(clean, shown, focus=None):
                refs = found
                break
    lists = [history.shown, *reversed(history.earlier_lists)]
    if history.earlier_lists and (across := references.resolve_across_lists(clean, lists)):
        refs = across  # "add the first collar and the 2nd pen": each counted in its own list
    topic = (*known, *unknown)
    context = slots.category or (history.state.need.category if history.state.need and not topic else None)
    # Values are read without what did not fit: "10 or 12 inch, the 8 inch ones are too small"
    unpriced = read_budget(_without_misfits(clean), currency_default=currency).rest
    needed = history.state.need.category if history.state.need else None
    if slots.category and (
        named_too := _named_by_values(unpriced, said, slots.category, vocabulary, needed=needed)
    ):
        # "a queen bed with nothing on it. what bedding have you got in queen?": bedding, which has queens
        slots = msgspec.structs.replace(slots, category=named_too)
        context = named_too
    attributes = read_attributes(unpriced, vocabulary, context)
    if (
        context is None
        and reading.kind is None
        # Unless the message names a thing no title has besides the value: "ok fine, do you sell
        # calculators" asks for calculators, not for fine hair ("hyaluronic" is the value itself)
        and not _besides_values(unknown, attributes)
        and (owner := _category_of_values(attributes, vocabulary, clean))
    ):
        # "anything with hyaluronic acid?": a value only one department's products have names it
        slots = msgspec.structs.replace(slots, category=owner)
        context, named = owner, True
        attributes = read_attributes(unpriced, vocabulary, context)
    if said.strip() and said != clean and attributes.wanted:
        # "office chair with a mesh back, i sweat like crazy on leather": the value of the request, not the
        # one of the reason given (a value said only in a reason stays: "any perfume? she likes citrusy stuff")
        requested_values = read_attributes(read_budget(said, currency_default=currency).rest, vocabulary, context)
        attributes = _values_of_the_request(attributes, requested_values)
    if refining and (valued := _value_words(attributes)):
        # "and smaller - tenkeyless or compact": values of what is looked at narrow it, they name no product
        known = [word for word in known if word.lower() not in valued]
        topic = tuple(word for word in topic if word.lower() not in valued)
        said = " ".join(word for word in said.split() if word.lower().strip(",.!?") not in valued)
    if refining and (parts := _parts_turned_down(clean, attributes, vocabulary)):
        # "also no knit uppers": the part of the thing looked at made of what is turned down, no product
        unknown = [word for word in unknown if word.lower() not in parts]
        topic = tuple(word for word in topic if word.lower() not in parts)
    vague_need = reading.kind is None and not (named or unknown or slots.colors)
    suggestions: tuple[str, ...] = ()
    leaned = False  # a situation searched in the department it points to
    if vague_need and not refs:
        interests = _interests(clean) or clean
        if _a_childs_age(attributes):  # "my niece's 6th birthday": kinds made for her age
            suggestions = tuple(
                layer.suggest(interests, among=lambda path: "age_range" in vocabulary.attribute_keys_of(path))
            )
        suggestions = suggestions or tuple(layer.suggest(interests))
        if leaning := _leaning(layer, clean, unpriced, history):
            # "12 hr shifts on my feet and they're DYING. womens 8": shoes, searched with what was said
            slots = msgspec.structs.replace(slots, category=leaning)
            attributes = read_attributes(unpriced, vocabulary, leaning)
            vague_need, suggestions, leaned = False, (), True
    outside = missing_brand(clean, vocabulary)
    broad: tuple[str, ...] = ()
    open_ended = _ASKS_ADVICE.search(clean) or (_VAGUE_THING.search(clean) and not slots.has_budget)
    if (
        open_ended
        and slots.category
        and reading.kind is None
        and not (refs or unknown or slots.brand or slots.colors or set(attributes.wanted) - {"age_range"})
    ):  # an age ("for my baby", "my 3 year old") narrows whatever kind is chosen; it chooses none  # "my sister just had a baby, what should I get her?", "I need a thing for my dog"
        broad = _kinds_within(slots.category, [*known, *kinds], vocabulary, lambda: layer.suggest(clean))
        has_kinds_below = any(
            path.startswith(slots.category + " > ") for path in vocabulary.category_terms.values()
        )  # "board game recommendations?" names a kind with no kinds below it: board games, then
        if (
            not broad
            and has_kinds_below
            and not _names_more_than(slots.category, [*known, *kinds])
            and " > " in slots.category
        ):
            # "for a camping trip": camping has two kinds; what the outdoors has, then
            parent = slots.category.rsplit(" > ", 1)[0]
            broad = _kinds_within(parent, [], vocabulary, lambda: layer.suggest(clean))
    # (a child's age with what they like, "my nephew turns 7, he likes building stuff", is searched)
    aged_interest = bool(slots.category and "age_range" in attributes.wanted)
    asks_advice = _asks_only_advice(clean, titled, slots, refs, reading)
    if (
        not (broad or leaned or aged_interest)
        and asks_advice
        and _WHAT_HELPS.search(clean)  # not "what should I get?", which is asked about
        and (leaning := _leaning(layer, clean, unpriced, history))
    ):
        # "I work from home on my kitchen table and my lower back is killing me. What can help?": a trouble
        # that points to one department (not the kitchen the story is told in) is searched there
        slots = msgspec.structs.replace(slots, category=leaning)
        attributes = read_attributes(unpriced, vocabulary, leaning)
        suggestions, phrase, known, unknown, leaned = (), None, [], [], True
    elif not (broad or leaned or aged_interest) and asks_advice:
        # "I've just got into hiking and don't really know what I need": which kind of thing, first
        options = suggestions or tuple(layer.suggest(_interests(clean) or clean))  # (made for an age said)
        if len(options) >= 3 and " > " in (common := _common_path(options)):
            # "we're bringing home a puppy, what do i even need": every option is the dogs', so dogs' things
            slots = msgspec.structs.replace(slots, category=common)
            suggestions, phrase, known, unknown = (), None, [], []  # the kind is all there is to search by
        else:
            broad = options if len(options) >= 3 else ()
    return Intent(
        action=action,
        confidence=float(confidence),
        slots=slots,
        references=list(refs),
        policy=reading,
        suggestions=broad or suggestions,
        broad=bool(broad),
        foreign=language.foreign(text, vocabulary.said_words | {b.lower() for b in vocabulary.brands}),
        question=read_question(clean, vocabulary.attribute_keys, vocabulary.attribute_values),
        comparison=read_comparison(clean),
        topic=tuple(topic),
        catalog_topic=tuple(known),
        title_words=tuple(title_words(said, vocabulary)),
        describes_need=_describes(attributes, history.state.need, vocabulary),
        words=_with_story_kind(
            _with_brand(
                outside,
                _without_excluded(
                    _need_words(phrase, known, unknown, slots, vocabulary), attributes, slots, vocabulary
                ),
            ),
            clean,
            said,
            vocabulary,
        ),
        attributes=attributes,
        clean=clean,
        outside_brand=outside is not None,
        shown_count=shown_count,
    )


# What a shopper says they would look or feel like: "anything bright and I look like a highlighter pen"
_SIMILE = re.compile(
    r"\b(?:i|i'd|we|you|he|she|they)\s+(?:would\s+|'d\s+)?(?:look|looks|looked|feel|feels|sound|sounds)\s+like\b"
    r"[^,.;!?]*",
    re.IGNORECASE,
)
_TOPS = re.compile(r"(\d[\w.$£€]*\s*(?:[a-z]+\s+)?)tops\b", re.IGNORECASE)
_WEIGHT_TALK = re.compile(
    r"\b(?:weigh\w*|weight|heavy|guy|kid|child|toddler|hold|holds|take|takes|support\w*|carr\w+|capacity)\b",
    re.IGNORECASE,
)
_POUNDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:pounds|pound)\b", re.IGNORECASE)


# Where a message's clauses part, and how a clause giving a reason opens ("earbuds hurt my ears", "we're
# going up into the mountains", "because the old one broke").
_CLAUSE_END = re.compile(
    r"[,;.!?]+\s+|\s+-\s+|\s+(?=(?:because|since|cos|cuz|coz)\b)|"
    # "cables drive me nuts so nothing wired": the reason, then what follows from it
    r"\s+(?=so\s+(?:nothing|no|none|not|without|something|anything|maybe|probably|ideally|preferably)\b)",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"^(?:(?:but|and|as|though|although)\s+(?=(?:i|i'm|im|i've|i'd|we|we're|he|he's|she|she's|they|they're|it|it's|"
    r"there's|because|since)\b))?(?:because|since|cos|cuz|coz|i|i'm|im|i've|i'd|we|we're|we've|he|he's|she|she's|they|they're|it|it's|"
    r"my|our|his|her|their|mine|there's|just\s+(?:got|had|bought|paid|spent|moved|started|lost|broke|fixed)|"
    r"got\s+my|(?:trying\s+|want\s+|need\s+)?to\s+(?:match|go\s+with)\s+(?:my|our|his|her|the)|"
    # "the walk from the car park to the pitch is long", "the 9s squash my toes"
    r"(?:the|those|these)\s+(?:\w+\s+){0,8}(?:is|are|was|were)\b|"
    r"(?:the|those|these)\s+(?:\w+\s+){0,3}(?!(?:in|into|to|for|from|with|on|of|at|by|off|like|and|or|as)\b)\w+\s+"
    r"(?:my|me|her|him|us|them|our|his|their)\b|"
    r"(?:the|those|these|\w+)\s+(?:\w+\s+){0,3}(?:is|are|was|were|hurt|hurts|broke|"
    r"keep|keeps|never|always|don't|doesn't|look|looks|get|gets|feel|feels|seem|seems|drive|drives|bug|bugs|"
    r"annoy|annoys|bother|bothers|play|plays|make|makes|fall|falls|fell|slip|slips|rip|rips|tear|tears|itch|itches|"
    r"leak|leaks|snag|snags)|"
    r"(?:one|two|\d+)\s+for\s+(?:each|every)\b|"  # "two of them, one for each hand"
    r"hides|shows|gets|keeps|looks|goes|makes|helps|fits|matches|works)\b",
    re.IGNORECASE,
)


# A shopper asking what to buy, rather than for something: "what do I need?", "any ideas?"
_ASKS_ADVICE = re.compile(
    r"\bwhat\s+(?:do|should|would|could|can)\s+(?:i|we|you)\s+(?:even\s+)?"
    r"(?:need|get|buy|take|bring|pack|recommend|suggest)|"
    r"\bwhat\s+to\s+(?:get|buy)|\bany\s+(?:ideas|suggestions|recommendations)|\bideas\s+for\b|"
    r"\bworth\s+(?:getting|buying|having)|\b(?:zero|no|absolutely\s+no)\s+(?:ideas?|clue)\b|"
    r"\bwhere\s+(?:do|should)\s+(?:i|we)\s+(?:even\s+)?start|\bwhere\s+to\s+(?:even\s+)?start|"
    r"\bwhat\s+(?:would|do|can)\s+you\s+(?:recommend|suggest)|\bimpossible\s+to\s+buy\s+for|\buseless\s+at\s+this|"
    r"\banything\s+you'?d\s+(?:suggest|recommend)|\b(?:don'?t|do\s+not)\s+(?:really\s+)?know\s+what\s+(?:i|we)\s+need|"
    r"\bwhat'?s\s+(?:actually\s+)?worth\s+(?:getting|buying)",
    re.IGNORECASE,
)
def _asks_only_advice(text: str, titled: list[str], slots: Slots, refs: list[int], reading: Any) -> bool:
    """Whether a message asks what to buy and names nothing that products are called by: "my flat is
    freezing this winter, what should I get??", "working from home now and my setup is rubbish. help?"."""
    return bool(
        (_ASKS_ADVICE.search(text) or (_ASKS_HELP.search(text) and len(text.split()) > 3))  # not "help" alone
        and not (titled or refs or slots.brand or slots.has_budget)
        and reading.kind is None
    )


# Asking for what would help with a trouble told: "what can help?", "what have u got that could help"
_WHAT_HELPS = re.compile(r"\b(?:what|anything|something)\b[^.?!]{0,40}\bhelp\b(?!\s+me\s+(?:choose|decide))", re.IGNORECASE)
_ASKS_HELP = re.compile(r"\bhelp\s*[?!.]*\s*$|\bhelp\s+me\s+out\b", re.IGNORECASE)


# What a shopper says who has no kind of product in mind yet: "a thing for my dog", "some things for my flat".
_VAGUE_THING = re.compile(
    r"\b(?:a\s+thing|something|some\s+(?:things|stuff|bits)|stuff|a\s+(?:present|gift)|presents?|gifts?)\b",
    re.IGNORECASE,
)


def _names_more_than(category: str, known: Sequence[str]) -> bool:
    """Whether a message names a kind of product besides the words of the category it read."""
    path_words = {singular(word) for word in re.findall(r"[a-z]+", category.lower())}
    return any(singular(word.lower()) not in path_words for word in known)


def _kinds_within(
    category: str | None,
    known: Sequence[str],
    vocabulary: Vocabulary,
    suggest: Callable[[], Sequence[str]],
) -> tuple[str, ...]:
    """The kinds of product below a broad category that a message names nothing more of ("getting stuff
    together for a camping trip": tents, sleeping bags, ...), the suggested first; () when the category is
    narrow (fewer than three kinds below it) or the message names a kind of its own."""
    if not category or _names_more_than(category, known):
        return ()
    prefix = category + " > "
    below = {
        prefix + path[len(prefix) :].split(" > ", 1)[0]
        for path in vocabulary.category_terms.values()
        if path.startswith(prefix)
    }
    if len(below) < 3:
        return ()
    ranked = [path for path in suggest() if path in below]
    ranked += [path for path in sorted(below) if path not in ranked]
    return tuple(ranked[:5])


def category_words(path: str | None) -> list[str]:
    """The words of a category's last part: "Keyboards & Mice" -> keyboards, mice."""
    return re.findall(r"[a-z]{3,}", (path or "").rsplit(">", 1)[-1].lower())


def _has_word(text: str, words: Sequence[str]) -> bool:
    said = {singular(word) for word in re.findall(r"[\w'-]+", text.lower())}
    return any(singular(word.lower()) in said for word in words)


def _with_brand(outside: Missing | None, words: str) -> str:
    """The search words with the well-known brand asked for that no seller lists ("Nike Pegasus for men?
    ... something similar for road running"), so that the search says it is not carried."""
    if outside is None or outside.what.lower() in words.lower():
        return words
    return f"{outside.what} {words}".strip()


_FED_UP = re.compile(r"\b(?:sick|tired|fed\s+up|done)\s+(?:of|with)\b", re.IGNORECASE)


_SIZE_SAID = re.compile(
    r"\b(?:size|sized|sz|xs|xl|xxl)\b|\b(?:a|an|in)\s+(?:small|medium|large|petite)\b", re.IGNORECASE
)


def _category_of_values(attributes: AttributeReading, vocabulary: Vocabulary, text: str) -> str | None:
    """The one category whose products have most of the attributes a message asks for, counting only
    attributes that few categories have ("key ingredient", "skin type"; not colour or material); an
    attribute whose name the message says ("my skin is dry") counts more."""
    owners: dict[str, set[str]] = {}
    for path, keys in vocabulary.category_attributes.items():
        for key in keys:
            owners.setdefault(key, set()).add(path)
    said = set(re.findall(r"[a-z]+", text.lower()))
    counts: dict[str, float] = {}
    for key in attributes.wanted:
        paths = owners.get(key, set())
        named = any(part in said for part in key.split("_") if part not in ("type", "range", "size", "level"))
        if 1 <= len(paths) <= 2:
            for path in paths:
                counts[path] = counts.get(path, 0) + (1.5 if named else 1)
    if not counts:
        return None
    best = max(counts.values())
    leaders = [path for path, count in counts.items() if count == best]
    return leaders[0] if len(leaders) == 1 else None


_BARE_SIZE = re.compile(
    r"\b(?P<size>extra[\s-]large|x-?large|extra[\s-]small|small|medium|large)\b(?!\s+(?:of|amount))",
    re.IGNORECASE,
)


# Who or what it is for, described by size: "he's a big lad", "she'll be huge", "a tiny pup".
_DESCRIBED_SIZE = re.compile(
    r"\b(?P<large>huge|massive|giant|enormous|big\s+(?:lad|boy|girl|dog|breed|fella|guy|chap|one)|large\s+breed|"
    r"(?:going\s+to|gonna|will|'ll)\s+(?:be|get)\s+(?:really\s+|very\s+|so\s+)?(?:big|huge))\b"
    r"|\b(?P<small>tiny|teeny|little\s+(?:lad|boy|girl|dog|pup|puppy|one)|small\s+breed|toy\s+breed)\b",
    re.IGNORECASE,
)


def _described_size(text: str, category: str, vocabulary: Vocabulary) -> str | None:
    """The size of whom it is for, where the category's products come in sizes: "he's a big lad" (large),
    "a tiny pup" (small). Said anywhere in the message, reasons included."""
    if "size" not in vocabulary.attribute_keys_of(category):
        return None
    if found := _DESCRIBED_SIZE.search(text):
        return "large" if found["large"] else "small"
    if (weighs := _PET_WEIGHT.search(text)) and (pounds := _in_pounds(weighs)) is not None:
        # "my lab is 80 pounds": a big dog's bed, collar or coat; "a 12 lb terrier": a small one's
        return "large" if pounds >= _LARGE_PET_LB else "small" if pounds <= _SMALL_PET_LB else None
    if (age := _AGE_IN_MONTHS.search(text)) and (by_age := _size_for_months(age, vocabulary)):
        return by_age  # "romper for my nephew, he's 7 months": 6-12 months
    big = re.search(r"\b(?:big|bigger)\s+(?P<kind>[a-z]+)", text, re.IGNORECASE)
    if big and vocabulary.names_a_kind(big["kind"]):  # "I need a big bed for her": a large one
        return "large"
    return None


# A number said bare, once a size was asked for: "no wait sorry, nine and a half", "10.5 actually".
_BARE_NUMBER = re.compile(
    rf"(?<![\w.$€£¥#-])(?<!\bin\s)(?<!\bfor\s)(?<!\bafter\s)(?<!\bwithin\s)"
    rf"(?P<number>\d{{1,2}}(?:\.5)?|{WORD_NUMBER})(?P<half>\s+and\s+a\s+half)?"
    r"(?=\s*(?:[,.;!?]|$|(?:actually|instead|please|pls|plz|then|now|only|i\s+think|is\s+fine|would\s+be)\b))",
    re.IGNORECASE,
)  # (the number stands alone: "in 10 seconds", "around 8 inches" are no sizes)


def _size_again(text: str, slots: Slots, vocabulary: Vocabulary) -> str | None:
    """The size a bare number names when the need already has a size: a correction of it. Not a budget,
    a count or a measure, and only a size the catalog has."""
    if slots.has_budget or slots.quantity:
        return None
    found = list(_BARE_NUMBER.finditer(text))
    if len(found) != 1 or (number := parse_number(found[0]["number"])) is None:
        return None
    said = number + (Decimal("0.5") if found[0]["half"] else 0)
    return vocabulary.size_by_word.get(f"{said.normalize():f}")  # 9.5, 10 (not 1E+1)


# Two sizes said at once, either of which fits: "im a 9 or a 9.5 depending on the brand".
_ONE_SIZE = r"(?:an?\s+|size\s+)?(?P<{0}>\d{{1,2}}(?:\.5)?)(?P<{0}half>\s+and\s+a\s+half)?"
_TWO_SIZES = re.compile(
    r"\b(?:i'?m|im|i\s+am|she'?s|he'?s|she\s+is|he\s+is|they'?re|wears?|takes?|sizes?|sz|(?:wo)?men'?s|ladies|uk|us)\s+"
    + _ONE_SIZE.format("a")
    + r"\s*,?\s*(?:or|/)\s+"
    + _ONE_SIZE.format("b")
    + r"(?![\w.]|\s*(?:in\b|inch|cm|mm|\"))",
    re.IGNORECASE,
)


def _size_said(number: str, half: str | None, vocabulary: Vocabulary) -> str | None:
    said = Decimal(number) + (Decimal("0.5") if half else 0)
    return vocabulary.size_by_word.get(f"{said.normalize():f}")


# A size taken back in the same breath: "size 9. no wait, ten", "an 8, sorry, 8.5".
_SIZE_CORRECTION = re.compile(
    rf"\b(?:no\s+wait|wait\s+no|no\s+sorry|sorry|scratch\s+that|i\s+mean|actually|make\s+(?:it|that))\W+"
    rf"(?P<number>\d{{1,2}}(?:\.5)?|{WORD_NUMBER})(?P<half>\s+and\s+a\s+half)?(?=\s*(?:[,.;!?]|$))",
    re.IGNORECASE,
)


def _size_corrected(text: str, vocabulary: Vocabulary) -> str | None:
    """The size a correction later in the message names instead of the one said first."""
    found = list(_SIZE_CORRECTION.finditer(text))
    if not found or (number := parse_number(found[-1]["number"])) is None:
        return None
    said = number + (Decimal("0.5") if found[-1]["half"] else 0)
    return vocabulary.size_by_word.get(f"{said.normalize():f}")


# A pet's weight, whose size of bed, collar or coat it tells: "my lab is 80 pounds", "he's ninety lbs".
_PET = r"(?:dog|dogs|pup|puppy|lab|labrador|retriever|shepherd|husky|boxer|terrier|he|she|he's|she's|boy|girl)"
_PET_WEIGHT = re.compile(
    rf"\b{_PET}\s+(?:is|weighs|'s)?\s*(?:an?\s+)?(?:about|around|like|over|nearly|almost)?\s*"
    rf"(?P<number>\d+(?:\.\d+)?|{WORD_NUMBER})\s*(?P<unit>pounds?|lbs?|kilos?|kgs?|kilograms?)\b",
    re.IGNORECASE,
)
_LARGE_PET_LB = 50
_SMALL_PET_LB = 20


# A baby's age in months, whose clothes size it tells: "he's 7 months", "a 4 month old", "she is 10 mo".
_AGE_IN_MONTHS = re.compile(
    rf"(?:\b(?:he|she|they|baby|it)(?:'s|\s+is|\s+are|'re)\s+(?:only\s+|just\s+|nearly\s+|almost\s+)?"
    rf"(?P<number>\d{{1,2}}|{WORD_NUMBER})[\s-]*(?:months?|mos?|mths?)\b(?!\s+(?:ago|from|later))"
    rf"|(?<![\w-])(?P<old>\d{{1,2}}|{WORD_NUMBER})[\s-]*(?:months?|mos?|mths?)[\s-]+old\b)",
    re.IGNORECASE,
)
_MONTHS_RANGE = re.compile(r"(?P<low>\d+)\s*-\s*(?P<high>\d+)\s*months?", re.IGNORECASE)


def _size_for_months(match: re.Match[str], vocabulary: Vocabulary) -> str | None:
    """The size of the catalog's "A-B months" sizes that a baby of the age said is in (A <= age < B)."""
    months = parse_number(match["number"] or match["old"])
    if months is None:
        return None
    for size in dict.fromkeys(vocabulary.size_by_word.values()):
        if (span := _MONTHS_RANGE.fullmatch(size)) and int(span["low"]) <= months < int(span["high"]):
            return size
    return None


def _in_pounds(match: re.Match[str]) -> float | None:
    number = parse_number(match["number"])
    weight = quantities.parse(f"{number} {match['unit']}") if number is not None else None
    pounds = quantities.comparable([quantities.parse("1 lb"), weight]) if weight is not None else None
    return float(pounds[1]) if pounds else None  # "40 kilo" in pounds, by the units library


def _sized_here(text: str, category: str, vocabulary: Vocabulary) -> str | None:
    """A size said as a bare word ("medium dog collar", "a large one") where the category's products come in
    sizes; elsewhere "small" and "large" only describe ("a small desk")."""
    if "size" not in vocabulary.attribute_keys_of(category):
        return None
    match = _BARE_SIZE.search(text)
    if match is None or turned_down_word(text, match["size"]):
        return None
    said = " ".join(match["size"].lower().replace("-", " ").split())
    return "extra large" if said in ("extra large", "x large", "xlarge") else said


def _clauses(text: str) -> tuple[list[str], list[str]]:
    """A message's clauses, and the separators between them (one fewer)."""
    parts = re.split(f"({_CLAUSE_END.pattern})", text, flags=re.IGNORECASE)  # clause, separator, clause, ...
    return parts[0::2], parts[1::2]


def _without_reasons(text: str, vocabulary: Vocabulary, *, refining: bool) -> str:
    """A message without the clauses after its first that give reasons: "over-ear only, earbuds hurt my
    ears after an hour" -> "over-ear only". A clause with a number or an amount is kept ("my budget is 60
    euros", "we're 4"), and so is the whole message when what is left names nothing the catalog has
    (`refining` a need) or no kind of product (a new one: "a gift, my dad loves fishing" keeps fishing)."""
    clauses, separators = _clauses(text)
    kept = [clauses[0]]
    for separator, clause in zip(separators, clauses[1:], strict=False):
        fed_up = _FED_UP.search(clause)  # "i'm sick of buying AAAs" asks for nothing
        if (
            not _REASON.match(clause.strip())
            or _turns_down_a_name(clause, vocabulary)  # "I'm not keen on Auralis or Voltwise"
            or (_counts_something(clause) and not _DOES_NOT_FIT.search(clause))
            or _SIZE_SAID.search(clause)  # "he's a size S"
            or read_budget(clause, currency_default="USD").currency  # "I'm in Berlin so euros please"
            or (asks(clause) and not fed_up)
        ):
            kept += [separator, clause]
    if len(kept) > 1 and _opens_with_reason(clauses[0], vocabulary):
        kept = kept[2:]  # "the gym plays awful music, so noise cancelling ones": the ones after the reason
    left = "".join(kept)
    if left == text:
        return text
    common = language.english_words()
    words = [
        word for word in re.findall(r"[\w'-]+", left.lower()) if word not in FILLER and word not in common
    ]
    if (read_question(left) and _OF_IT.search(left)) or (refining and _BARE_NUMBER.search(left)):
        return left  # "how heavy is it? the walk ... is long", "9.5 ONLY, the 9s squash my toes"
    if refining:
        return left if any(vocabulary.sells(w) or w in vocabulary.brand_words for w in words) else text
    named = [word for word in words if vocabulary.names_a_kind(word) or singular(word) in vocabulary.heads]
    return left if named else text  # "rechargeable headlamp, i'm sick of buying AAAs": a headlamp


# (not "my card says no")
_TURNS_DOWN = re.compile(
    r"\b(?:not|nothing|none|never|without|except|hate|avoid|allergic)\b|\bno\b(?=\s+\w)", re.IGNORECASE
)
# Numbers that count time, not anything a product is chosen by: "it rains here like 200 days a year".
_TIME_SAID = re.compile(
    r"\d+\s*(?:days?|weeks?|hours?|hrs?|minutes?|mins?|am|pm|times|years?(?!\s*old|\s*-?\s*olds?))\b",
    re.IGNORECASE,
)
# What did not fit, told as why: "the 9s squash my toes", "the 8 inch ones are too small for her recipe".
_DOES_NOT_FIT = re.compile(
    r"\btoo\s+(?:small|big|large|tight|loose|short|long|narrow|wide|heavy|tiny|light|bulky)\b|\bsquash|\bpinch|"
    r"\b(?:don'?t|doesn'?t|didn'?t|won'?t)\s+fit\b|\bwould\s+(?:break|hurt|kill|wreck|crush)\b",
    re.IGNORECASE,
)


# A question about a product talked of: "how heavy is it?", "what's the first one made of?"
_OF_IT = re.compile(
    r"\b(?:it|its|it's|they|them|this\s+one|that\s+one|the\s+(?:\w+\s+)?ones?|first|second|third|fourth|fifth|last)\b",
    re.IGNORECASE,
)


def _without_misfits(text: str) -> str:
    """The message without its clauses that tell what did not fit ("the 8 inch ones are too small", "a 12
    inch would break my wrists. 10 inch or smaller"), when another clause is left: their sizes are not
    wanted."""
    clauses, _ = _clauses(text)
    misfits = {index for index, clause in enumerate(clauses) if _DOES_NOT_FIT.search(clause)}
    if not misfits or len(misfits) == len(clauses):
        return text
    return " ".join(clause for index, clause in enumerate(clauses) if index not in misfits)


def _turns_down_a_name(clause: str, vocabulary: Vocabulary) -> bool:
    """Whether a clause turns down a brand, a colour or a value the catalog has ("I'm not keen on Auralis"),
    not only tells a why ("I am vegan and not use animal products", "I'm not paying a fortune")."""
    if not _TURNS_DOWN.search(clause):
        return False
    lowered = clause.lower()
    return bool(
        (vocabulary.brand_pattern and vocabulary.brand_pattern.search(clause))
        or any(re.search(rf"\b{re.escape(color.lower())}\b", lowered) for color in vocabulary.colors)
        or read_attributes(clause, vocabulary, None).excluded
    )


def _counts_something(clause: str) -> bool:
    """Whether a clause says a number or an amount ("my budget is 60 euros", "we're 4"), not only a time."""
    return bool(re.search(r"\d|[$£€]", _TIME_SAID.sub(" ", clause)))


def _opens_with_reason(clause: str, vocabulary: Vocabulary) -> bool:
    """Whether a message's first clause only tells of something else: "the gym plays awful music" (not "i
    need a tent", "my budget is 60", "he's just got into running", "actually black is fine")."""
    return bool(
        _OF_SOMETHING_ELSE.match(clause.strip())
        and _REASON.match(clause.strip())
        and not asks(clause)
        and not _counts_something(clause)
        and not _SIZE_SAID.search(clause)
        and not any(vocabulary.names_a_kind(word) for word in re.findall(r"[\w'-]+", clause))
        and not read_attributes(clause, vocabulary, None).wanted
    )


_OF_SOMETHING_ELSE = re.compile(r"(?:the|my|our|his|her|their|this|that)\s+[a-z]+\s", re.IGNORECASE)


# Parts of a product, named by their colour while a product is looked at ("a black lid", "navy cover only").
_PARTS = frozenset({"cover", "covers", "lid", "lids", "handle", "handles", "strap", "straps", "sole", "soles",
                    "laces", "lining", "trim", "frame", "cord", "band", "base", "cap", "shell", "case"})  # fmt: skip


def _part_of_it(text: str, word: str, colors: tuple[str, ...]) -> bool:
    if word.lower() not in _PARTS or not colors:
        return False
    named = "|".join(re.escape(color) for color in colors)
    return re.search(rf"\b(?:{named})\s+{re.escape(word)}\b", text, re.IGNORECASE) is not None


def _without_turned_down(text: str, kinds: list[str]) -> str:
    """`text` without the places it turns a kind down: "destroys every plush toy in 5 mins. what dog toys
    aren't plush?" asks for the dog toys."""
    for word in kinds:
        for match in reversed(list(re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE))):
            if turned_down(text, match.start(), match.end()):
                text = text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]
    return text


def _with_title_words_after(phrase: str, text: str, vocabulary: Vocabulary) -> str:
    """`phrase` with the words right after it in `text` that products' titles have ("plush" -> "plush
    penguin"), up to the first that none has."""
    found = re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE)
    if found is None:
        return phrase
    after = []
    for word in re.findall(r"[\w'-]+|[^\w\s]", text[found.end() :]):
        if word.lower() in FILLER or word.lower() not in vocabulary.words:
            break
        after.append(word)
    return " ".join([phrase, *after])


def _values_of_the_request(attributes: AttributeReading, requested: AttributeReading) -> AttributeReading:
    """`attributes` with each attribute the request itself names keeping only the request's values."""
    wanted = {
        key: tuple(value for value in values if value in requested.wanted[key]) or values
        if key in requested.wanted
        else values
        for key, values in attributes.wanted.items()
    }
    return msgspec.structs.replace(attributes, wanted=wanted)


def _value_words(attributes: AttributeReading) -> set[str]:
    """The words of the attribute values a message asks for or turns down, and the names of what it counts
    ("five hundred pieces or more": pieces)."""
    values = [*attributes.wanted.values(), *attributes.excluded.values()]
    named = {form for key in attributes.wanted for form in (key.replace("_", " "), singular(key))}
    return {word for those in values for value in those for word in value.lower().split()} | named


_PLACES_GONE_TO = frozenset({"work", "school", "college", "uni"})


def _said_otherwise(text: str, word: str) -> bool:
    """Whether `word` is said as something other than a product: a verb ("I camp wild", "throw in the
    earbuds") or "in stock"."""
    escaped = re.escape(word)
    patterns = [rf"\b(?:i|we|you|they|he|she|i'?ll|we'?ll|i'?d|we'?d|to|usually|often|always)\s+{escaped}\b"]
    if word.lower() == "stock":
        patterns.append(r"\b(?:in|out\s+of|back\s+in)\s+stock\b")
    if word.lower() in _PLACES_GONE_TO:  # "childish for work", "by the time I get to work": a place, not "Work Boot"
        patterns.append(rf"\b(?:for|to|at|from|after|before|during)\s+{escaped}\b")
    if word.lower() in _VERBS_TOO:
        patterns.append(rf"\b{escaped}\s+(?:in|it|them|those|these|that|this|one)\b")
    return any(re.search(pattern, text, re.IGNORECASE) for pattern in patterns)


_VERBS_TOO = frozenset({"throw", "toss", "chuck", "pack"})  # "throw in the earbuds" adds them
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")


# How many products to show, which no product has: "show us three or so", "show me 3 orthopedic dog beds",
# "three or four to look at would be lovely" (never "show me 2 person tents": a count with its unit).
_FEW = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|a\s+couple(?:\s+of)?)"
_NOT_A_UNIT = (
    r"(?![\s-]*(?:person|people|man|players?|pieces?|pcs?|pack|seater|in\b|inch|inches|ft|feet|foot|l\b|litres?|"
    r"liters?|qt|quarts?|mm|cm|kg|lbs?|pounds?|oz|w\b|watts?|years?|months?|season|x\b|%|\"|'|\.\d|mah|gb))"
)
_SHOW_COUNT = re.compile(
    rf"\b((?:show|give|find|get|send)\s+(?:me|us)\s+)(?:a\s+)?{_FEW}(?:\s+or\s+(?:so|{_FEW}))?{_NOT_A_UNIT}"
    r"(?:\s+(?:options|choices|of\s+them|to\s+(?:look\s+at|choose\s+from|compare)))?\b",
    re.IGNORECASE,
)
_COUNT_TO_SEE = re.compile(
    rf"\b{_FEW}(?:\s+or\s+{_FEW})?\s+(?:options\s+|choices\s+)?to\s+(?:look\s+at|choose\s+from|compare)"
    r"(?:\s+would\s+be\s+(?:lovely|great|nice|good|ideal|perfect))?",
    re.IGNORECASE,
)


def _without_display_count(text: str) -> str:
    return _COUNT_TO_SEE.sub(" ", _SHOW_COUNT.sub(r"\1", text))


def _display_count(text: str) -> int | None:
    """The number of products asked to see: "show us three or so" 3, "three or four to look at" 4."""
    found = _SHOW_COUNT.search(text) or _COUNT_TO_SEE.search(text)
    if found is None:
        return None
    asked = found.group(0)[len(found.group(1)) :] if found.re is _SHOW_COUNT else found.group(0)  # not "me"
    said = re.findall(_FEW, asked, re.IGNORECASE)
    counts = [3 if "few" in one.lower() else 2 if "couple" in one.lower() else parse_number(one) for one in said]
    counts = [int(count) for count in counts if count]
    return max(counts) if counts else None


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
        if len(word) < 2 or word in common or word.isdigit() or word in FILLER or _ORDINAL.fullmatch(word):
            continue
        if vocabulary.sells(word) or language.names_no_product(word):  # "obsessed", "hobby": no product
            continue
        found.append(word)
    return found


def _named_by_values(
    text: str, said: str, category: str, vocabulary: Vocabulary, *, needed: str | None = None
) -> str | None:
    """Another category the message names too, when the attribute values it says belong to that one only:
    "bed" and "bedding" are both said, and "queen" is a size of bedding, not of dog beds. Or the category
    of the need (`needed`) the values belong to: "for a queen bed" while weighted blankets are looked at."""
    owner = _category_of_values(read_attributes(text, vocabulary, None), vocabulary, text)
    if owner is None or owner.startswith(category) or category.startswith(owner):
        return None
    if needed and (needed.startswith(owner) or owner.startswith(needed)):
        return needed
    named = (term for term, path in vocabulary.category_terms.items() if path.startswith(owner))
    lowered = said.lower()
    return (
        owner if any(re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", lowered) for term in named) else None
    )


# Wording that can only take something out of the cart: "take it out pls", "take them back out", "remove it".
TAKES_OUT = re.compile(
    r"\b(?:remove|delete|ditch|get\s+rid\s+of|take\s+(?:[\w'-]+\s+){0,4}(?:out|off)(?!\s+of\s+stock))\b",
    re.IGNORECASE,
)


def _a_childs_age(attributes: AttributeReading) -> bool:
    """Whether the ages wanted are a child's, past babyhood and before the teens (3+ to 10+): the kinds
    made for those ages suit a vague need; a baby's or a grown-up's need is wider."""
    ages = [value for value in attributes.wanted.get("age_range", ()) if "month" not in value]
    oldest = max((int(found[1]) for value in ages if (found := re.match(r"\s*(\d{1,2})", value))), default=0)
    return 3 <= oldest < 12


def _besides_values(words: Sequence[str], attributes: AttributeReading) -> list[str]:
    """Those of `words` that are no part of an attribute value wanted."""
    values = [value.lower() for found in attributes.wanted.values() for value in found]
    return [word for word in words if not any(word.lower() in value for value in values)]


def _asked_unsold(phrase: str, vocabulary: Vocabulary) -> list[str]:
    """The words of a phrase asked for by name that no title or category has, and that are neither
    everyday English ("something", "gifts") nor words naming no kind ("set"): "golf" of "golf clubs"."""
    return [
        word
        for word in re.findall(r"[a-z][a-z'-]+", phrase.lower())
        if word not in FILLER
        and len(word) > 2
        and not (vocabulary.sells(word) or vocabulary.sells(singular(word)))
        and word not in language.english_words()
        and not generic_head(word)
    ]


def _with_story_kind(words: str, text: str, said: str, vocabulary: Vocabulary) -> str:
    """The words searched, with a word of the story around the request that titles of the thing asked for
    carry: "he plays tennis too tbh, what rackets have you got" looks for tennis rackets."""
    asked = re.findall(r"[a-z][a-z'-]+", words.lower())
    if not asked:
        return words
    head, kept = asked[-1], {singular(word) for word in re.findall(r"[a-z][a-z'-]+", said.lower())}
    common = language.english_words()
    story = [
        word
        for word in dict.fromkeys(re.findall(r"[a-z][a-z'-]+", text.lower()))
        if len(word) > 3
        and singular(word) not in kept  # only what the reasons dropped
        and word not in common
        and word not in FILLER
        and singular(word) != singular(head)
        and together(word, head) in vocabulary.pairs
        and not turned_down_word(text, word)
        and word not in vocabulary.value_words  # "office chair with a mesh back, i sweat on leather"
        # (a thing they own is not the kind wanted: "red kitchen appliances? trying to match my red kettle")
        and not re.search(rf"\b(?:my|our|his|her|their)\s+(?:[\w-]+\s+)?{re.escape(word)}\b", text, re.IGNORECASE)
    ]
    return " ".join([*story[:1], words]) if story else words


def _names_unsold(phrase: str, vocabulary: Vocabulary) -> bool:
    """Whether a phrase asked for ("a set of golf clubs") names a thing by a word no title or category has
    (no everyday word, no verb's form: "help choosing a gift"), and no kind the catalog sells."""
    words = re.findall(r"[a-z][a-z'-]+", phrase.lower())
    if re.search(r"\d", phrase):  # "the 1500 watt variety": a value of the kind looked at, no new kind
        return False
    return not any(vocabulary.names_a_kind(word) and not generic_head(word) for word in words) and any(
        not word.endswith(("ing", "ed")) for word in _asked_unsold(phrase, vocabulary)
    )


# A requested phrase longer than this is a story around what is asked for ("every christmas my grandchildren
# and I do a big jigsaw puzzle together on the dining table"): only the words naming the thing are searched.
_LONG_PHRASE = 6


def _around_kinds(phrase: str, kinds: Sequence[str], vocabulary: Vocabulary) -> str:
    """The run of words around the most specific word of `kinds` in `phrase` that the catalog's titles,
    categories or values have ("big jigsaw puzzle together" -> "jigsaw puzzle"); the phrase itself if it has
    none."""
    words = re.findall(r"[\w'-]+", phrase)
    named = {kind.lower() for kind in kinds}
    places = [i for i, word in enumerate(words) if word.lower() in named]
    if not places:
        return phrase

    def depth(i: int) -> int:  # "kitchen stuff - I don't even own a kettle": the kettle, not the kitchen
        term = vocabulary.category_terms.get(words[i].lower()) or vocabulary.category_terms.get(
            singular(words[i].lower()), ""
        )
        return term.count(">") if term else 0

    at = max(places, key=lambda i: (depth(i), -i))

    def catalogs(word: str) -> bool:
        return word.lower() in named or (word.lower() not in FILLER and vocabulary.sells(word))

    start, end = at, at + 1
    while start > 0 and catalogs(words[start - 1]):
        start -= 1
    while end < len(words) and catalogs(words[end]):
        end += 1
    return " ".join(words[start:end])


def _need_words(
    phrase: str | None, known: list[str], unknown: list[str], slots: Slots, vocabulary: Vocabulary
) -> str:
    """The search words of what a message asks for: the requested phrase and the catalog's words said
    elsewhere ("a gift for my nephew, he loves building things" -> "gift building"); nothing for a message
    that names no product (a vague need, asked about instead of searched)."""
    if not (known or unknown):
        return ""
    if not phrase:
        content = _content(slots.query)
        if known and len(content.split()) > _LONG_PHRASE:  # no request said: the story's product words
            return _around_kinds(_without_turned_down(content, known), known, vocabulary)
        return content
    colors = {word for color in vocabulary.colors for word in color.lower().split()}
    words = [word for word in phrase.split() if word.lower() not in FILLER and word.lower() not in colors]
    if not any(vocabulary.names_a_kind(word) for word in words):  # "shampoo for dry hair" is shampoo
        words += [word for word in known if word not in {w.lower() for w in words}]
    return " ".join(words)


def _parts_turned_down(text: str, attributes: AttributeReading, vocabulary: Vocabulary) -> set[str]:
    """Words right after a value turned down that name no kind of product: "no knit uppers" -> uppers."""
    values = [value for values in attributes.excluded.values() for value in values]
    return {
        match[1].lower()
        for value in values
        for match in re.finditer(rf"\b{re.escape(value)}\s+([a-z]+)", text, re.IGNORECASE)
        if not vocabulary.names_a_kind(match[1])
    }


def _without_excluded(words: str, attributes: AttributeReading, slots: Slots, vocabulary: Vocabulary) -> str:
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
    parts = _parts_turned_down(words, attributes, vocabulary)  # "no knit uppers": no uppers to search
    kept: list[str] = []
    for word in words.split():
        bare = word.lower().strip(",.")
        if bare in turned_down or bare in parts:
            continue
        if any(bare == other.lower().strip(",.") for other in kept):  # a word said twice is searched once
            continue
        kept.append(word)
    return " ".join(kept)


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


_GIFT = re.compile(
    r"\b(?:gifts?|presents?|pressies?|stocking\s+fillers?|secret\s+santa|birthday|b-?day|christmas|xmas)\b",
    re.IGNORECASE,
)
# A trouble the shopper has: what would end it is a kind of product ("my feet are DYING", "freezing in my
# flat", "my back is wrecked"). Without one, a story ("we just got the keys to our first house") is asked about.
_TROUBLE = re.compile(
    r"\b(?:dying|killing|kill|hurts?|hurting|aching|aches?|sore|pain|painful|wreck(?:ed)?|wrek(?:ed)?|"
    r"ruined|freezing|frozen|cold|soaked|soaking|wet|sweating|boiling|broke|broken|snapped|fell\s+apart|"
    r"worn\s+out|can'?t\s+sleep|keeps?\s+(?:breaking|falling|leaking)|bored|rain(?:ing|s)?|pour(?:ing)?|"
    r"stuck\s+(?:inside|indoors|at\s+home))\b",
    re.IGNORECASE,
)


def _situation(text: str, history: History) -> bool:
    """Whether a vague message tells a situation that may point to one department: a story of ten words or
    more, with no need in hand and not answering the assistant's question, that tells a trouble (`_TROUBLE`)
    and asks for no present (whom a present is for says little of what suits them: they are asked about)."""
    if history.state.options:
        return False  # the answer to the question asked: the options' own reading ("into music": audio)
    need = history.state.need
    if need is not None and (need.words or need.category):
        return False  # "anything under 100 bucks? the last pair i had fell apart": the need in hand, refined
    return len(re.findall(r"[\w'-]+", text)) >= 10 and bool(_TROUBLE.search(text)) and not _GIFT.search(text)


def _leaning(layer: Layer, clean: str, unpriced: str, history: History) -> str | None:
    """The department a situation told points to, where the nearest products and the nearest category names
    agree on it (either alone is sometimes far off: "my doctor says I need to move more" lies near
    strollers); None for no situation or no agreement."""
    leaning = layer.lean(unpriced) if _situation(clean, history) else None
    if leaning and _root(leaning) in {_root(path) for path in layer.suggest(unpriced)}:
        return leaning
    return None


def _root(path: str) -> str:
    return path.split(">", 1)[0].strip()


def _common_path(paths: Sequence[str]) -> str:
    """The deepest category every path lies in: "Pet Supplies > Dogs > Beds", "... > Toys" -> "Pet Supplies >
    Dogs"."""
    split = [[part.strip() for part in path.split(">")] for path in paths]
    common = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return " > ".join(common)


def _interests(text: str) -> str:
    """The words of a vague message that are no everyday English ("he's 15 and into music" -> "music"):
    what the person cares about, for suggesting categories."""
    common = language.english_words()
    words = [
        word
        for word in re.findall(r"[a-z][a-z'-]+", text.lower())
        if word not in common and word not in FILLER
    ]
    return " ".join(words)


def _content(query: str) -> str:
    return " ".join(word for word in query.split() if word.lower().strip(",.!?") not in FILLER)


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
