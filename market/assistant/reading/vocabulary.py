"""The catalog's words the assistant listens for: brands, colours, sizes and the terms that name a category.

A `Vocabulary` comes from the demo catalog's word lists (`Vocabulary.demo()`) or from any catalog's
products (`Vocabulary.from_products`), so a real catalog's brands and colours are recognised too. Matching
is case-insensitive and multi-word aware: the longest phrase wins, so "royal blue" is one colour, not "blue".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from market.assistant.reading.language import english_words, names_no_product
from market.assistant.reading.words import (
    GENERIC_HEADS,
    LEAVING_OUT,
    WORD,
    product_words,
    singular,
    stem,
    title_head,
    word_pairs,
)

# Nouns are made plural by the same rule as the demo vocabulary (kept there, beside the nouns).
from market.taxonomy.vocabulary import plural

_SIZE_WORDS = (
    "extra small",
    "x-small",
    "small",
    "medium",
    "large",
    "extra large",
    "x-large",
    "xx-large",
    "2xl",
)
_LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_LINKS = frozenset({"and", "for", "with", "the", "other", "all"})  # in category terms, naming no kind


def _common_prefix(paths: Iterable[str]) -> str:
    split = [[part.strip() for part in path.split(">")] for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if any(part.lower() != parts[0].lower() for part in parts):
            break
        common.append(parts[0])
    return " > ".join(common)


def _short_brand_names(brands: Iterable[str], named_otherwise: set[str]) -> dict[str, str]:
    """A brand's first word, where shoppers name it by that alone ("Veloce" for Veloce Footwear): only a
    word no other brand has, that English does not use otherwise and that names nothing else the catalog
    has (`named_otherwise`: "trowel" is a product, "saffron" a colour)."""
    words_of = {brand: [word.lower() for word in re.findall(r"[A-Za-z]+", brand)] for brand in brands}
    counts: dict[str, int] = {}
    for words in words_of.values():
        for word in set(words):
            counts[word] = counts.get(word, 0) + 1
    common = english_words()
    return {
        words[0]: brand
        for brand, words in words_of.items()
        if len(words) >= 2
        and len(words[0]) >= 5
        and counts[words[0]] == 1
        and words[0] not in common
        and not names_no_product(words[0])
        and words[0] not in named_otherwise
        and singular(words[0]) not in named_otherwise
    }


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any phrase, longest first, whole words only, any run of spaces between words."""
    alternatives = []
    for phrase in sorted(set(phrases), key=len, reverse=True):
        words = [r"(?:&|and)" if word in ("&", "and") else re.escape(word) for word in phrase.split()]
        alternatives.append(r"\s+".join(words))
    if not alternatives:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


def _key(text: str) -> str:
    return " ".join(text.lower().replace("&", " and ").split())


@dataclass(frozen=True)
class Vocabulary:
    """Brands, colours, sizes and category terms, with the patterns that find them in a sentence."""

    brands: tuple[str, ...]
    colors: tuple[str, ...]
    sizes: tuple[str, ...]
    category_terms: Mapping[str, str]  # lower-case phrase -> category path (prefix) it names
    nouns: tuple[str, ...] = ()  # lower-case product nouns ("trail running shoe"), for generating utterances
    # Every word of the catalog's titles and category paths, lower-case and singular: what it sells.
    words: frozenset[str] = frozenset()
    attribute_keys: tuple[str, ...] = ()
    heads: frozenset[str] = frozenset()  # the head nouns of the titles ("pan" of "Cast Iron Frying Pan, 12")
    # Two words one product says together (title and category), singular, in order: "bed dog", "chair office".
    pairs: frozenset[str] = frozenset()
    # Each attribute's values (colour and size apart), and which attributes each category path has.
    attribute_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    category_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Which values each category path's products have, per attribute (an age rating of building sets).
    category_values: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)

    color_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    color_by_word: dict[str, str] = field(init=False, repr=False, compare=False)
    brand_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    brand_by_word: dict[str, str] = field(init=False, repr=False, compare=False)
    size_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    size_by_word: dict[str, str] = field(init=False, repr=False, compare=False)
    category_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    category_by_term: dict[str, str] = field(init=False, repr=False, compare=False)
    word_stems: frozenset[str] = field(init=False, repr=False, compare=False)
    # Brands' first words that name them alone, honoured only where a brand is turned down ("except Veloce")
    short_brand_names: frozenset[str] = field(init=False, repr=False, compare=False)
    said_words: frozenset[str] = field(init=False, repr=False, compare=False)  # `words` and attribute values
    value_words: frozenset[str] = field(init=False, repr=False, compare=False)  # attribute values' and colours' words
    color_families: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)
    spelling_words: tuple[str, ...] = field(init=False, repr=False, compare=False)  # what a typo is read as
    brand_words: frozenset[str] = field(init=False, repr=False, compare=False)  # lower case
    kind_words: frozenset[str] = field(init=False, repr=False, compare=False)
    path_words: frozenset[str] = field(init=False, repr=False, compare=False)  # of category paths, singular
    quality_stems: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        colors: dict[str, str] = {}
        for color in self.colors:
            lowered = " ".join(color.lower().split())
            colors[lowered] = color
            if "grey" in lowered:  # both spellings are common
                colors.setdefault(lowered.replace("grey", "gray"), color)
            if lowered == "navy":
                colors.setdefault("navy blue", color)
        # "green" where the catalog only says "forest green" and "sage green": a family of colours.
        families: dict[str, list[str]] = {}
        for color in self.colors:
            words = color.lower().split()
            if len(words) > 1 and words[-1] not in colors:
                families.setdefault(words[-1], []).append(color)
        for word, members in families.items():
            colors.setdefault(word, members[0])
        brands = {_key(brand): brand for brand in self.brands if len(brand.strip()) > 1}
        named_otherwise = {  # words that name kinds, departments, colours or values: never a brand's short name
            word
            for phrase in (*self.heads, *self.category_terms, *self.colors, *self.sizes,
                           *(value for values in self.attribute_values.values() for value in values))
            for word in re.findall(r"[a-z]+", phrase.lower())
        }  # fmt: skip
        short = _short_brand_names(self.brands, named_otherwise)  # "anything except Veloce": Veloce Footwear
        set_attr = functools.partial(object.__setattr__, self)
        set_attr("short_brand_names", frozenset(_key(name) for name in short))
        brands |= {_key(name): brand for name, brand in short.items() if _key(name) not in brands}
        sizes = {" ".join(size.lower().split()): size for size in self.sizes}
        terms = {" ".join(term.lower().split()): path for term, path in self.category_terms.items()}
        for term, path in list(terms.items()):
            if "&" in term:
                terms.setdefault(term.replace("&", "and"), path)
        set_attr("color_by_word", colors)
        set_attr("color_families", {word: tuple(members) for word, members in families.items()})
        set_attr("color_pattern", _phrase_pattern(colors))
        set_attr("brand_by_word", brands)
        set_attr("brand_pattern", _phrase_pattern([*self.brands, *short]))
        set_attr("size_by_word", sizes)
        set_attr("size_patterns", self._size_patterns(sizes))
        set_attr("category_by_term", {_key(term): path for term, path in terms.items()} | terms)
        set_attr("category_pattern", _phrase_pattern(terms))
        # What the catalog says of its products: titles, categories, and attribute values ("noise").
        said = (*self.colors, *(value for values in self.attribute_values.values() for value in values))
        valued = {word for value in said for word in product_words(str(value))}
        set_attr("word_stems", frozenset(stem(word) for word in self.words | valued))
        set_attr("said_words", frozenset(self.words | valued))
        set_attr("value_words", frozenset(valued))
        terms_words = {word for term in terms for word in re.findall(r"[a-z][a-z'-]+", term)}
        set_attr("spelling_words", tuple(sorted(w for w in self.said_words | terms_words if len(w) >= 4)))
        set_attr("brand_words", frozenset(w for b in self.brands for w in re.findall(r"[\w'-]+", b.lower())))
        set_attr(
            "path_words",
            frozenset(
                singular(word) for path in terms.values() for word in re.findall(r"[a-z]{3,}", path.lower())
            ),
        )
        # Kinds by their singular, not their stem: "camping" is a kind of product, "camp" (a verb) is not.
        set_attr(
            "kind_words",
            frozenset(
                singular(word)
                for term in terms
                for word in term.split()
                if len(word) > 2 and word not in _LINKS
            )
            | self.heads,
        )
        qualities = (*self.colors, *self.brands, *(v for vs in self.attribute_values.values() for v in vs))
        set_attr(
            "quality_stems",
            frozenset(stem(word) for value in qualities for word in product_words(str(value)))
            - {stem(word) for word in self.kind_words},
        )

    @staticmethod
    def _size_patterns(sizes: Mapping[str, str]) -> tuple[re.Pattern[str], ...]:
        """ "size 10.5", "sz M", "in a medium", "large size", and sizes that cannot be anything else: "XL", "0-3 months"."""
        if not sizes:
            return ()
        said = sorted({*sizes, *_SIZE_WORDS}, key=len, reverse=True)
        every = "|".join(re.escape(size) for size in said)
        words = "|".join(re.escape(size) for size in said if not size[:1].isdigit())
        alone = [size for size in said if " " in size or (size.upper() in _LETTER_SIZES and len(size) > 1)]
        numbers = "|".join(re.escape(size) for size in said if size[:1].isdigit())
        patterns = [
            rf"\b(?:size|sz|sized)\s*:?\s*(?:an?\s+)?(?P<s>{every})(?![\w]|[.,]\d)",
            rf"\bin\s+(?:an?\s+)?(?:size\s+)?(?P<s>{words})(?![\w-])",
            rf"(?<![\w-])(?P<s>{words})\s+(?:size|sized)\b",  # "large size pls"
        ]
        if numbers:  # "womens 8", "men's 10.5", "uk 9": a shoe size said after whose it is
            patterns.append(
                rf"\b(?:(?:wo)?men'?s|ladies|uk|us|eu)\s+(?P<s>{numbers})(?![\w]|[.,]\d|\s*(?:-|to)\s*\d)"
            )
        letters = "|".join(re.escape(size) for size in said if size.upper() in _LETTER_SIZES)
        if letters:  # "mens L", "womens XS"
            patterns.append(rf"\b(?:(?:wo)?men'?s|ladies)\s+(?P<s>{letters})(?![\w'-])")
        if alone:
            patterns.append(rf"(?<![\w-])(?P<s>{'|'.join(re.escape(size) for size in alone)})(?![\w-])")
        # a size of one word that is no everyday size word, said of a kind: "newborn rompers" (not "for a newborn")
        named = [size for size in said if size.isalpha() and size.lower() not in _SIZE_WORDS and size.upper() not in _LETTER_SIZES]
        if named:
            patterns.append(rf"(?<![\w-])(?P<s>{'|'.join(re.escape(size) for size in named)})\s+(?=[a-z])")
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)

    def attribute_keys_of(self, category: str) -> frozenset[str]:
        """The attributes the products of `category` have, with those of the categories above and below it."""
        return frozenset(
            key
            for path, keys in self.category_attributes.items()
            if path.startswith(category) or category.startswith(path)
            for key in keys
        )

    def values_of(self, category: str | None, key: str) -> tuple[str, ...]:
        """The values of `key` that products of `category` (or of the categories above and below it) have;
        every value of `key` where the catalog does not say, or no category is known."""
        everything = tuple(self.attribute_values.get(key, ()))
        if not category or not self.category_values:
            return everything
        found = {
            value
            for path, values in self.category_values.items()
            if path.startswith(category) or category.startswith(path)
            for value in values.get(key, ())
        }
        return tuple(value for value in everything if value in found) or everything

    def names_a_kind(self, word: str) -> bool:
        """Whether a word names a kind of product (a word of a category term: "kettle", "tents"), rather
        than qualifying one ("synthetic", "walnut", "mesh")."""
        return singular(word.lower()) in self.kind_words

    def qualifies(self, word: str) -> bool:
        """Whether a word is a colour, a brand or an attribute value, and never a kind of product."""
        return stem(word) in self.quality_stems

    def sells(self, word: str) -> bool:
        """Whether the catalog's titles, categories or attribute values have `word`, in some form."""
        return all(stem(part) in self.word_stems for part in product_words(word))

    @classmethod
    def demo(cls) -> Vocabulary:
        """The words of the demo catalog (`market.taxonomy.vocabulary`); built once per process."""
        return _demo_vocabulary()

    @classmethod
    def from_products(cls, products: Iterable[Any]) -> Vocabulary:
        """The words of a live catalog: products as seller-API dicts or objects with brand, category and
        attributes (`ranking.documents.IndexedProduct`). Colours and sizes come from the attributes."""
        brands: dict[str, str] = {}
        colors: dict[str, str] = {}
        sizes: dict[str, str] = {}
        paths: set[str] = set()
        words: set[str] = set()
        keys: dict[str, None] = {}
        values: dict[str, dict[str, str]] = {}
        by_category: dict[str, set[str]] = {}
        values_by_category: dict[str, dict[str, set[str]]] = {}
        heads: set[str] = set()
        pairs: set[str] = set()
        for product in products:
            title = str(_field(product, "title") or "")
            words.update(product_words(title))
            pairs.update(word_pairs(f"{title} {_field(product, 'category') or ''}"))
            if head := title_head(title):
                heads.add(head)
            brand = str(_field(product, "brand") or "").strip()
            if brand:
                brands.setdefault(brand.lower(), brand)
            category = str(_field(product, "category") or "").strip()
            if category:
                paths.add(" > ".join(part.strip() for part in category.split(">") if part.strip()))
            attributes = _field(product, "attributes") or {}
            keys.update(dict.fromkeys(attributes))
            if category:
                by_category.setdefault(category, set()).update(attributes)
            for key, value in attributes.items():
                if key not in ("color", "colour", "size"):
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str | int) and str(item).strip():
                            values.setdefault(key, {}).setdefault(
                                str(item).strip().lower(), str(item).strip()
                            )
                            if category:
                                values_by_category.setdefault(category, {}).setdefault(key, set()).add(
                                    values[key][str(item).strip().lower()]
                                )
            for key, target in (("color", colors), ("colour", colors), ("size", sizes)):
                value = attributes.get(key)
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str) and item.strip():
                        target.setdefault(item.strip().lower(), item.strip())
        return cls(
            brands=tuple(sorted(brands.values())),
            colors=tuple(sorted(colors.values())),
            sizes=tuple(sorted(sizes.values())),
            category_terms=_category_terms(paths, {}),
            nouns=tuple(sorted({path.rsplit(">", 1)[-1].strip().lower() for path in paths})),
            words=frozenset(words | {word for path in paths for word in product_words(path)}),
            attribute_keys=tuple(keys),
            heads=frozenset(heads),
            pairs=frozenset(pairs),
            attribute_values={key: tuple(found.values()) for key, found in values.items()},
            category_attributes={path: frozenset(found) for path, found in by_category.items()},
            category_values={
                path: {key: frozenset(found) for key, found in keyed.items()}
                for path, keyed in values_by_category.items()
            },
        )

    def with_terms_of(self, other: Vocabulary) -> Vocabulary:
        """These words plus `other`'s category terms for the categories this vocabulary has. A live
        catalog's own terms are only its category path words ("Blenders"); a richer vocabulary (the demo's
        product nouns: "smoothie blender") fills in, but never points at a category this catalog lacks."""
        have = set(self.category_terms.values())
        borrowed = {term: path for term, path in other.category_terms.items() if path in have}
        return self.merge(Vocabulary(brands=(), colors=(), sizes=(), category_terms=borrowed))

    def merge(self, other: Vocabulary) -> Vocabulary:
        """Both vocabularies' words; where a category term differs, the one they share a prefix of."""
        terms: dict[str, set[str]] = {}
        for vocabulary in (self, other):
            for term, path in vocabulary.category_terms.items():
                terms.setdefault(term, set()).add(path)
        merged = {term: prefix for term, found in terms.items() if (prefix := _common_prefix(found))}
        return Vocabulary(
            brands=tuple(dict.fromkeys((*self.brands, *other.brands))),
            colors=tuple(dict.fromkeys((*self.colors, *other.colors))),
            sizes=tuple(dict.fromkeys((*self.sizes, *other.sizes))),
            category_terms=merged,
            nouns=tuple(dict.fromkeys((*self.nouns, *other.nouns))),
            words=self.words | other.words,
            attribute_keys=tuple(dict.fromkeys((*self.attribute_keys, *other.attribute_keys))),
            heads=self.heads | other.heads,
            pairs=self.pairs | other.pairs,
            attribute_values={
                key: tuple(
                    dict.fromkeys((*self.attribute_values.get(key, ()), *other.attribute_values.get(key, ())))
                )
                for key in {*self.attribute_values, *other.attribute_values}
            },
            category_attributes={
                path: self.category_attributes.get(path, frozenset())
                | other.category_attributes.get(path, frozenset())
                for path in {*self.category_attributes, *other.category_attributes}
            },
            category_values={
                path: {
                    key: self.category_values.get(path, {}).get(key, frozenset())
                    | other.category_values.get(path, {}).get(key, frozenset())
                    for key in {*self.category_values.get(path, {}), *other.category_values.get(path, {})}
                }
                for path in {*self.category_values, *other.category_values}
            },
        )


# "leave out Pawsmith" asks for no "Leave-In" conditioner.
_LEAVING_OUT = re.compile(LEAVING_OUT, re.IGNORECASE)


def title_words(text: str, vocabulary: Vocabulary) -> list[str]:
    """The words of `text` that only a product's title says: the catalog has them, yet they are no kind of
    product, no colour, brand or attribute value, and no common English ("over-ear", "tennis", "bolster")."""
    common = english_words()
    return [
        word
        for word in dict.fromkeys(WORD.findall(_LEAVING_OUT.sub(" ", text).lower()))
        if len(word) > 2
        and any(c.isalpha() for c in word)
        and word not in common
        and vocabulary.sells(word)
        and not vocabulary.names_a_kind(word)
        and not vocabulary.qualifies(word)
    ]


def _field(product: Any, name: str) -> Any:
    return product.get(name) if isinstance(product, Mapping) else getattr(product, name, None)


def _category_terms(paths: Iterable[str], nouns: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Phrases that name a category: each level of a path ("headphones", "shoes"), the parts of a root
    name ("toys", "games"), product nouns and their plurals; a phrase naming several categories names what
    they have in common, or nothing."""
    found: dict[str, set[str]] = {}

    def add(term: str, path: str) -> None:
        term = " ".join(term.lower().split())
        if term not in GENERIC_HEADS and term != "top":  # "at the top", "a pair": no kind of product
            found.setdefault(term, set()).add(path)

    for path in paths:
        parts = [part.strip() for part in path.split(">")]
        for depth, part in enumerate(parts):
            prefix = " > ".join(parts[: depth + 1])
            add(part, prefix)
            if depth > 0 and "&" not in part:  # "tent", "board game" ("Board Games")
                *before, last = part.lower().split()
                add(" ".join([*before, singular(last)]), prefix)
            if depth == 0 and "&" in part:
                for piece in part.split("&"):
                    add(piece, prefix)
    for path, path_nouns in nouns.items():
        for noun in path_nouns:
            lowered = noun.lower()
            for form in {lowered, plural(lowered)}:
                add(form, path)
            head = lowered.rsplit(" ", 1)[-1]
            if head != lowered and head not in GENERIC_HEADS:
                for form in {head, plural(head)}:
                    add(form, path)
            if head in GENERIC_HEADS and " " in lowered:  # "baby bottle set": baby bottles too
                bare = lowered.rsplit(" ", 1)[0]
                for form in {bare, plural(bare)}:
                    add(form, path)
    return {term: prefix for term, paths_named in found.items() if (prefix := _common_prefix(paths_named))}


@functools.cache
def _demo_vocabulary() -> Vocabulary:
    from market.taxonomy.vocabulary import ROOTS

    colors: dict[str, None] = {}
    sizes: dict[str, None] = {}
    nouns: dict[str, list[str]] = {}
    words: set[str] = set()
    pairs: set[str] = set()
    keys: dict[str, None] = {}
    found_values: dict[str, dict[str, None]] = {}
    by_category: dict[str, frozenset[str]] = {}
    values_by_category: dict[str, dict[str, frozenset[str]]] = {}
    for root in ROOTS:
        for sub in root.subcategories:
            path = f"{root.name} > {sub.path}"
            nouns[path] = list(sub.nouns)
            words.update(product_words(path), *(product_words(noun) for noun in sub.nouns))
            pairs.update(*(word_pairs(f"{noun} {path}") for noun in sub.nouns))
            keys.update(dict.fromkeys(sub.attributes))
            by_category[path] = frozenset(sub.attributes)
            for key, values in sub.attributes.items():
                flat = (
                    [v for group in values.values() for v in group] if isinstance(values, Mapping) else values
                )
                if key == "color":
                    colors.update(dict.fromkeys(flat))
                elif key == "size":
                    sizes.update(dict.fromkeys(flat))
                else:
                    found_values.setdefault(key, {}).update(dict.fromkeys(flat))
                    values_by_category.setdefault(path, {})[key] = frozenset(flat)
    return Vocabulary(
        brands=tuple(brand for root in ROOTS for brand in root.brands),
        colors=tuple(colors),
        sizes=tuple(sizes),
        category_terms=_category_terms(nouns, nouns),
        nouns=tuple(noun.lower() for path_nouns in nouns.values() for noun in path_nouns),
        words=frozenset(words),
        pairs=frozenset(pairs),
        attribute_keys=tuple(keys),
        attribute_values={key: tuple(found) for key, found in found_values.items()},
        category_attributes=by_category,
        category_values=values_by_category,
    )
