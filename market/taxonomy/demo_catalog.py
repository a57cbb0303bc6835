"""A realistic, deterministic product catalog for demos, benchmarks and search-relevance tests.

The catalog is assembled from the vocabulary in `market.taxonomy.vocabulary`: twelve top-level categories,
each with its own invented brands, and per subcategory the product nouns, attributes, prices and phrases
that titles and descriptions are built from. Products come out as dicts shaped like the items of the
seller catalog API (field names follow the OpenAI / Agentic Commerce product feed).

Two properties matter more than anything else:

* Determinism. The same arguments always give the same products, in every process: randomness comes
  from a `random.Random` seeded with a string (which Python hashes with SHA-512, not the per-process
  salted `hash()`), and stable per-seller offsets come from `hashlib`.
* Streaming. `generate_products` yields one product at a time, so a benchmark can ask for a million.

Only the seed and the set of category roots decide *which* products are made; the currency and the id
prefix merely label them. So the same seed in EUR gives the same goods as in USD, priced in euros.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib.resources import files

import msgspec

from market.core.money import Money
from market.taxonomy.vocabulary import DETAIL_FORMATS, ROOTS, RootCategory, Subcategory

CATEGORY_ROOTS: tuple[str, ...] = tuple(root.name for root in ROOTS)

_ROOTS_BY_NAME: dict[str, RootCategory] = {root.name: root for root in ROOTS}

# Where product images are said to be: a product's one image is `<base>/<image_name(...)>.svg`. The default
# host resolves nowhere; `agora demo` draws the images and serves them itself (`market.app.demo_images`).
DEFAULT_IMAGE_BASE = "https://img.agora.example/demo"

# Roughly what one US dollar buys in each currency, and how many minor units the currency has. A fixed
# table, not an exchange-rate feed: demo prices only need to look plausible and never change.
_CURRENCIES: dict[str, tuple[float, int]] = {
    "USD": (1.0, 2),
    "EUR": (0.92, 2),
    "GBP": (0.79, 2),
    "CAD": (1.37, 2),
    "AUD": (1.52, 2),
    "CHF": (0.88, 2),
    "SEK": (10.5, 2),
    "JPY": (150.0, 0),
}

_GENDER_LABELS = {"men": "Men's", "women": "Women's"}  # "unisex" goes without saying in a title
_GENDER_ADJECTIVES = {"men": "men's", "women": "women's"}
_MODEL_EDITIONS = ("", "", "", " 2", " 3", " 4", " 5", " Pro", " Lite", " Plus", " II")
_SMALL_WORDS = frozenset({"and", "or", "of", "to", "for", "with", "de"})
_PROPER_WORDS = frozenset({"Chelsea"})  # stay capitalized inside a sentence


@dataclasses.dataclass(frozen=True)
class DemoSeller:
    """A fictional shop whose catalog is generated rather than imported, and what it says of shipping and
    returns (the defaults: it does not say), named as the seller API names them."""

    name: str
    email: str
    country: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    category_roots: tuple[str, ...]
    product_count: int
    ships_to: tuple[str, ...] = ()  # ISO 3166-1 alpha-2
    # Money is mutable, so it takes no part in the hash (equality still compares it).
    shipping_price: Money | None = dataclasses.field(default=None, hash=False)  # 0: free shipping
    free_shipping_over: Money | None = dataclasses.field(default=None, hash=False)
    return_window_days: int | None = None  # 0: no returns


# The demo's six fictional shops, from `data/demo_sellers.json`.
DEMO_SELLERS: tuple[DemoSeller, ...] = msgspec.convert(
    json.loads(files("market.taxonomy").joinpath("data/demo_sellers.json").read_text("utf-8")),
    tuple[DemoSeller, ...],
)


def generate_products(
    count: int,
    *,
    seed: int = 0,
    currency: str = "USD",
    category_roots: Sequence[str] | None = None,
    id_prefix: str = "sku",
    image_base: str = DEFAULT_IMAGE_BASE,
) -> Iterator[dict]:
    """Yields `count` product dicts, deterministic for a given (seed, currency, category_roots, id_prefix).
    `image_base`: the http(s) address the images are served under (see `image_name`).

    Streams: never builds the whole list (benchmarks ask for 100,000+). Arguments are checked here,
    eagerly, so a mistake surfaces at the call rather than at the first `next()`.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative int, not {count!r}")
    if currency not in _CURRENCIES:
        raise ValueError(f"unsupported currency {currency!r}; known: {', '.join(sorted(_CURRENCIES))}")
    if not id_prefix or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in id_prefix):
        raise ValueError(f"id_prefix must be non-empty ASCII letters, digits and hyphens, not {id_prefix!r}")
    if not image_base.startswith(("http://", "https://")):
        raise ValueError(f"image_base must be an http(s) address, not {image_base!r}")
    roots = _select_roots(category_roots)
    return _generate(count, seed, currency, roots, id_prefix, image_base.rstrip("/"))


def demo_seller_products(
    seller: DemoSeller, *, seed: int = 0, image_base: str = DEFAULT_IMAGE_BASE
) -> Iterator[dict]:
    """The products of one demo seller, in its currency and categories.

    Each seller gets a stable offset on the seed so that two sellers in the same category offer
    different products (and a shopper has something to compare).
    """
    return generate_products(
        seller.product_count,
        seed=seed + _stable_offset(seller.name),
        currency=seller.currency,
        category_roots=seller.category_roots,
        id_prefix=_seller_slug(seller),
        image_base=image_base,
    )


def image_name(subcategory: Subcategory, color: str | None) -> str:
    """The name of a product's image (without `.svg`): one per subcategory and colour, e.g.
    "sleeping-bags-forest-green", or the subcategory's alone ("pans") where products have no colour."""
    leaf = subcategory.path.rsplit(" > ", 1)[-1]
    return "-".join(_slug(part) for part in (leaf, color) if part)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _seller_slug(seller: DemoSeller) -> str:
    """The short, URL-safe handle of a demo seller: the first word of its name, e.g. "trailhead"."""
    return "".join(ch for ch in seller.name.split()[0].lower() if ch.isascii() and ch.isalnum())


def _gs1_check_digit(digits: str) -> str:
    """The GS1 check digit for the 12 leading digits of a GTIN-13 (weights 1, 3, 1, 3, ... from the left)."""
    total = sum(int(d) * (3 if position % 2 else 1) for position, d in enumerate(digits))
    return str((10 - total % 10) % 10)


# --- generation ----------------------------------------------------------------------------------------


def _select_roots(category_roots: Sequence[str] | None) -> tuple[RootCategory, ...]:
    if category_roots is None:
        return ROOTS
    if isinstance(category_roots, str):
        raise TypeError("category_roots must be a sequence of names, not a single string")
    unknown = sorted(set(category_roots) - set(_ROOTS_BY_NAME))
    if unknown:
        raise ValueError(f"unknown category roots {unknown}; known: {list(CATEGORY_ROOTS)}")
    if not category_roots:
        raise ValueError("category_roots must name at least one category")
    # Canonical order, so ("Shoes", "Garden") and ("Garden", "Shoes") give the same catalog.
    wanted = set(category_roots)
    return tuple(root for root in ROOTS if root.name in wanted)


def _generate(
    count: int, seed: int, currency: str, roots: tuple[RootCategory, ...], id_prefix: str, image_base: str
) -> Iterator[dict]:
    rng = random.Random(f"agora-demo-catalog:{seed}:{'|'.join(root.name for root in roots)}")
    # GTIN item references walk a permutation of 0..99,999 (7919 is coprime to 100,000), so no two
    # products share a GTIN in catalogs of up to 100,000 products.
    gtin_start = rng.randrange(100_000)
    for index in range(count):
        gtin_item_reference = (gtin_start + index * 7919) % 100_000
        yield _product(
            rng,
            f"{id_prefix}-{index:06d}",
            rng.choice(roots),
            currency,
            id_prefix,
            gtin_item_reference,
            image_base,
        )


def _product(
    rng: random.Random,
    product_id: str,
    root: RootCategory,
    currency: str,
    id_prefix: str,
    gtin_item_reference: int,
    image_base: str,
) -> dict:
    subcategory = rng.choice(root.subcategories)
    brand = rng.choice(root.brands)
    if subcategory.models:
        model = rng.choice(subcategory.models)
    else:
        model = rng.choice(root.models)
        edition = rng.choice(_MODEL_EDITIONS)
        if " " not in model:  # "Tempo 3" and "Tempo Pro", but not "Chef Series Pro"
            model += edition
    noun = rng.choice(subcategory.nouns)
    attributes = _choose_attributes(rng, subcategory)

    price = _price_amount(rng, subcategory, currency)
    product: dict = {
        "id": product_id,
        "title": _title(rng, brand, model, noun, attributes, subcategory),
        "description": _description(rng, brand, model, noun, attributes, subcategory),
        "brand": brand,
        "category": f"{root.name} > {subcategory.path}",
        "price": {"amount": price, "currency": currency},
    }
    if rng.random() < 0.25:
        product["list_price"] = {"amount": _list_price_amount(rng, price, currency), "currency": currency}

    roll = rng.random()
    if roll < 0.85:
        product["availability"], product["inventory_quantity"] = "in_stock", 1 + int(rng.random() ** 2 * 240)
    elif roll < 0.95:
        product["availability"], product["inventory_quantity"] = "out_of_stock", 0
    else:  # nothing on hand yet; orders are taken against the next delivery
        product["availability"], product["inventory_quantity"] = "preorder", 0

    product["attributes"] = attributes
    # One image, of the product's kind and colour. The draw that once chose how many is still made, so that
    # every product after this one stays as it was (the committed relevance set is built from them).
    rng.choice((1, 1, 2, 2, 3))
    product["images"] = [f"{image_base}/{image_name(subcategory, attributes.get('color'))}.svg"]
    product["url"] = f"https://shop.agora.example/{id_prefix}/{product_id}"
    if rng.random() < 0.6:
        product["gtin"] = _gtin(f"{id_prefix}/{brand}", gtin_item_reference)
    product["enable_search"] = True
    product["enable_checkout"] = rng.random() >= 0.03
    return product


def _choose_attributes(rng: random.Random, subcategory: Subcategory) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for key, values in subcategory.attributes.items():
        if isinstance(values, Mapping):  # sizes are cut differently for men and women
            values = values[attributes["gender"]]
        attributes[key] = rng.choice(values)
    return attributes


def _title(
    rng: random.Random, brand: str, model: str, noun: str, attributes: dict[str, str], sub: Subcategory
) -> str:
    """Brand, model and noun in one of a few shapes, sometimes with the colour, size or capacity."""
    words = [brand, model]
    if gender := _GENDER_LABELS.get(attributes.get("gender", "")):
        words.append(gender)
    color = attributes.get("color")
    color_up_front = color is not None and rng.random() < 0.2
    if color_up_front:
        words.append(_title_case(color))
    if sub.lead and rng.random() < 0.6:
        words.append(_title_case(attributes[sub.lead]))
    words.append(noun)
    title = " ".join(words)

    extras = []
    if sub.tail and rng.random() < 0.7:
        extras.append(sub.tail_format.format(_title_case(attributes[sub.tail])))
    if color and not color_up_front and rng.random() < 0.6:
        extras.append(_title_case(color))
    if not extras:
        return title
    shape = rng.random()
    if shape < 0.45:
        return f"{title}, {', '.join(extras)}"
    if shape < 0.8:
        return f"{title} - {', '.join(extras)}"
    return f"{title} ({', '.join(extras)})"


def _description(
    rng: random.Random, brand: str, model: str, noun: str, attributes: dict[str, str], sub: Subcategory
) -> str:
    """Two or three sentences: what it is and what it is for, its features, and the chosen variant."""
    plural = noun.endswith("s") and not noun.endswith("ss")  # "earbuds", "jeans", "string lights"
    gender = _GENDER_ADJECTIVES.get(attributes.get("gender", ""))
    lead = attributes[sub.lead] if sub.lead else None
    described = " ".join(part for part in (gender, lead, _lower_noun(noun)) if part)
    article = "" if plural else _article(described) + " "
    use = rng.choice(sub.uses)

    shape = rng.random()
    if shape < 0.4:
        opening = f"The {brand} {model} {'are' if plural else 'is'} {article}{described} {use}."
    elif shape < 0.7:
        # A themed set or a named scent is nothing without its name.
        named = f"{model} {described}" if sub.models else described
        named_article = "" if plural else _article(named) + " "
        opening = f"{_capitalize(named_article + named)} from {brand}, made {use}."
    else:
        opening = f"Meet the {model}: {article}{described} by {brand}, made {use}."

    first, second = rng.sample(sub.features, 2)
    if rng.random() < 0.5:
        features = f"Features include {first} and {second}."
    else:
        subject, verb = ("They", "offer") if plural else ("It", "offers")
        features = f"{subject} also {verb} {first} and {second}."

    sentences = [opening, features]
    details = [
        DETAIL_FORMATS.get(key, key.replace("_", " ") + " {}").format(value)
        for key, value in attributes.items()
        if key not in ("gender", sub.lead)
    ]
    if details and rng.random() < 0.8:
        sentences.append(f"Details: {', '.join(details)}.")
    return " ".join(sentences)


def _price_amount(rng: random.Random, sub: Subcategory, currency: str) -> int:
    low, high = sub.price
    # Most products sit in the lower part of a range; a few are premium.
    dollars = low + (high - low) * rng.random() ** 1.7
    return _charm_price(rng, dollars, currency)


def _list_price_amount(rng: random.Random, price: int, currency: str) -> int:
    """A former or recommended price, 10-60% above the selling price."""
    rate, exponent = _CURRENCIES[currency]
    dollars = price / 10**exponent / rate * (1.1 + 0.5 * rng.random())
    return max(_charm_price(rng, dollars, currency), price + 10**exponent)


def _charm_price(rng: random.Random, dollars: float, currency: str) -> int:
    """Converts a US-dollar amount and rounds it the way shops do: 49.99, 49.95, 49.00, 1,980 yen."""
    rate, exponent = _CURRENCIES[currency]
    major = dollars * rate
    if exponent == 0:
        step = 100 if major >= 1000 else 10
        return max(step, round(major / step) * step - rng.choice((0, 0, step // 5)))
    whole = max(1, round(major))
    cents = rng.choice((99, 99, 99, 99, 95, 95, 0, 0, 49))
    return whole * 100 - (100 - cents) if cents else whole * 100


def _gtin(supplier: str, item_reference: int) -> str:
    """A GTIN-13: a company prefix, an item reference and a valid GS1 check digit.

    The company prefix is derived from the seller and the brand together, which makes clashes between
    sellers unlikely (the demo sellers have none), so a store that insists on unique GTINs can load them.
    """
    digits = f"0{_stable_offset(supplier) % 1_000_000:06d}{item_reference:05d}"
    return digits + _gs1_check_digit(digits)


@functools.cache
def _stable_offset(name: str) -> int:
    """A number derived from a name that, unlike hash(), is the same in every process."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


# --- wording -------------------------------------------------------------------------------------------


@functools.cache
def _title_case(value: str) -> str:
    """ "hard-anodized aluminum" -> "Hard-Anodized Aluminum"; units ("8 in", "2 qt") and acronyms stay."""
    words = []
    for word in value.split(" "):
        if word in _SMALL_WORDS:
            words.append(word)
            continue
        parts = [part[:1].upper() + part[1:] if len(part) > 2 else part for part in word.split("-")]
        words.append("-".join(parts))
    return " ".join(words)


@functools.cache
def _lower_noun(noun: str) -> str:
    """ "Over-Ear Headphones" -> "over-ear headphones", keeping "3D" and similar as written."""
    words = []
    for word in noun.split(" "):
        if word in _PROPER_WORDS:
            words.append(word)
            continue
        parts = [part if any(ch.isupper() for ch in part[1:]) else part.lower() for part in word.split("-")]
        words.append("-".join(parts))
    return " ".join(words)


@functools.cache
def _article(phrase: str) -> str:
    first = phrase.split(" ", 1)[0]
    if first[:1].isdigit():
        return "an" if first.startswith(("8", "11", "18")) else "a"
    if first.isupper() or (len(first) > 1 and first[1] == "-" and first[0].isupper()):
        return "an" if first[0] in "AEFHILMNORSX" else "a"  # spoken letter by letter: "an LED", "a USB-C"
    if first[0].lower() == "u" and first.lower().startswith(("uni", "us", "uti")):
        return "a"
    return "an" if first[0].lower() in "aeiou" else "a"


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
