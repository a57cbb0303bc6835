"""Words as the catalog and the shopper write them: singular forms, crude stems, the words of a title and the
noun it names its product by. Plain functions of text; `vocabulary` knows which of them the catalog has."""

from __future__ import annotations

import re

# Last words of product nouns that name no kind of product on their own ("Pillowcase Pair", "Brick Set").
GENERIC_HEADS = frozenset(
    {
        "pair",
        "set",
        "kit",
        "pack",
        "combo",
        "bundle",
        "case",
        "cover",
        "one",
        "piece",
        "plus",
        "equipment",
        "gear",
    }
)
_IRREGULAR_PLURALS = {
    "knives": "knife", "shelves": "shelf", "scarves": "scarf", "leaves": "leaf", "halves": "half",
    "wolves": "wolf", "loaves": "loaf", "hooves": "hoof", "calves": "calf", "wives": "wife", "lives": "life",
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "grandchildren": "grandchild", "people": "person", "geese": "goose",
}  # fmt: skip


# Nouns ending in -ie, whose plural is no -y word's ("hoodies", "beanies", "cookies").
_IE_NOUNS = frozenset({
    "hoodies", "beanies", "onesies", "booties", "cookies", "movies", "zombies", "goalies", "nighties",
    "selfies", "brownies", "smoothies", "pixies", "calories", "ties", "pies",
})  # fmt: skip


def singular(noun: str) -> str:
    """ "turntables" -> "turntable", "accessories" -> "accessory", "benches" -> "bench", "knives" -> "knife";
    a rough rule."""
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun in _IE_NOUNS:  # "hoodies": hoodie, not hoody
        return noun[:-1]
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ches", "shes", "xes", "sses")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith(("ss", "us", "is")):
        return noun[:-1]
    return noun


def stem(word: str) -> str:
    """A crude stem for telling whether the catalog has a word in any form: "runner", "running" and "runs"
    are all "run"."""
    word = singular(re.sub(r"['’]s$", "", word.lower()))  # "chef's": chef
    for suffix in ("ings", "ing", "ers", "er", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]  # "runn" -> "run"
    return word


WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# Words that leave something out ("leave out Pawsmith", "minus the rope ones"): they turn down what follows
# and are never words of what is asked for.
LEAVING_OUT = r"\b(?:leave\s+(?:out|off)|cut\s+out|minus)\b"


def product_words(text: str) -> set[str]:
    """The words of a title or phrase as the catalog's vocabulary keeps them: lower-case, singular; a
    hyphenated word with its parts too ("noise-cancelling", "noise", "cancelling")."""
    words = [word for word in WORD.findall(text.lower()) if any(c.isalpha() for c in word)]
    parts = [part for word in words if "-" in word for part in word.split("-") if part.isalpha()]
    return {singular(word) for word in (*words, *parts)}


_TITLE_CLAUSE = re.compile(r"\s+-\s+|[,(/|]")


def generic_head(word: str) -> bool:
    """Whether a word names no kind of product on its own ("pack", "set", "pair")."""
    return singular(word.lower()) in GENERIC_HEADS


def title_head(title: str) -> str | None:
    """The noun a title names its product by, singular: the last word of its first part ("Cast Iron Frying
    Pan, 12 inch" -> "pan"), unless that word names no kind on its own ("Brick Set", "TR-1200X")."""
    words = WORD.findall(_TITLE_CLAUSE.split(title.lower(), maxsplit=1)[0])
    head = singular(words[-1]) if words else ""
    if len(head) < 3 or not head.isalpha() or head in GENERIC_HEADS:
        return None
    return head


def word_pairs(text: str) -> set[str]:
    """Each two words of `text` (a product's title and category), singular, in alphabetical order: "Dog Bed,
    Pet Supplies > Dogs" -> "bed dog", "pet supply", ..."""
    words = sorted({singular(word) for word in re.findall(r"[a-z]{3,}", text.lower())})
    return {f"{one} {two}" for index, one in enumerate(words) for two in words[index + 1 :]}


def together(first: str, second: str) -> str:
    """The key of `pairs` for two words."""
    one, two = sorted((singular(first.lower()), singular(second.lower())))
    return f"{one} {two}"
