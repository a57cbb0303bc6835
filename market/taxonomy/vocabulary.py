"""The marketplace's category and attribute vocabulary, loaded from JSON files in `market/taxonomy/data/`.

The data is the category tree, the invented brands that make things in each top-level category, and for
every subcategory the product nouns, attribute values, price range and the phrases a product description
is assembled from: one file per top-level category (`shoes.json`, ...), in the order of `_ROOT_FILES`,
`details.json` for `DETAIL_FORMATS` and `swatches.json` for `SWATCHES`. `market.taxonomy.demo_catalog`
combines them into products. The files are read once, at import; JSON arrays come back as tuples, so the
values are immutable.

Rules the data keeps, so the generated text stays coherent (see also `data/README.md`):

* Colour words appear only in the colour palettes, the values of the `color` attributes. Brands, models,
  nouns, uses and features never name a colour, so a product's title and description can only mention
  the colour its attributes say it has.
* A noun never claims something an attribute might contradict (there is no "Wireless" noun next to a
  connectivity attribute that can be "wired").
* Brands, models and product lines are invented; none is a real trademark.
* Prices are whole US dollars; the generator converts and rounds them per currency.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

# An attribute's possible values: a tuple, or a mapping from the product's gender to a tuple (sizes).
AttributeValues = tuple[str, ...] | Mapping[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Subcategory:
    """One leaf of the category tree and everything needed to describe a product in it."""

    path: str  # below the root, e.g. "Running" or "Audio > Headphones"
    nouns: tuple[str, ...]  # what the product is called, title-cased: "Trail Running Shoe"
    price: tuple[int, int]  # lowest and highest price in whole US dollars
    attributes: Mapping[str, AttributeValues]  # chosen in this order; sizes may depend on gender
    uses: tuple[str, ...]  # what it is for, phrased to follow the noun: "for long runs on pavement"
    features: tuple[str, ...]  # noun phrases: "a breathable upper"
    lead: str | None = None  # attribute that reads as an adjective before the noun: "mesh", "wireless"
    tail: str | None = None  # attribute worth quoting after the title: size, capacity, pieces
    tail_format: str = "{}"
    models: tuple[str, ...] = ()  # named lines or themes that replace the root's numbered models


@dataclasses.dataclass(frozen=True)
class RootCategory:
    name: str
    brands: tuple[str, ...]
    models: tuple[str, ...]  # model names, to which the generator may add a generation or edition
    subcategories: tuple[Subcategory, ...]


# The top-level categories, in catalog order: one file each in `data/`.
_ROOT_FILES: tuple[str, ...] = (
    "shoes",
    "apparel",
    "electronics",
    "home_and_kitchen",
    "outdoor",
    "sports_and_fitness",
    "beauty",
    "toys_and_games",
    "pet_supplies",
    "garden",
    "office",
    "baby",
)

_DATA = files("market.taxonomy").joinpath("data")


def _read(name: str) -> Any:
    return json.loads(_DATA.joinpath(f"{name}.json").read_text(encoding="utf-8"))


def _values(raw: list[str] | dict[str, list[str]]) -> AttributeValues:
    if isinstance(raw, dict):
        return {gender: tuple(values) for gender, values in raw.items()}
    return tuple(raw)


def _subcategory(raw: dict[str, Any]) -> Subcategory:
    unknown = raw.keys() - {field.name for field in dataclasses.fields(Subcategory)}
    if unknown:
        raise ValueError(f"unknown subcategory fields in {raw.get('path')!r}: {sorted(unknown)}")
    return Subcategory(
        path=raw["path"],
        nouns=tuple(raw["nouns"]),
        price=(int(raw["price"][0]), int(raw["price"][1])),
        attributes={key: _values(values) for key, values in raw["attributes"].items()},
        uses=tuple(raw["uses"]),
        features=tuple(raw["features"]),
        lead=raw.get("lead"),
        tail=raw.get("tail"),
        tail_format=raw.get("tail_format", "{}"),
        models=tuple(raw.get("models", ())),
    )


def _root(raw: dict[str, Any]) -> RootCategory:
    return RootCategory(
        name=raw["name"],
        brands=tuple(raw["brands"]),
        models=tuple(raw["models"]),
        subcategories=tuple(_subcategory(sub) for sub in raw["subcategories"]),
    )


ROOTS: tuple[RootCategory, ...] = tuple(_root(_read(name)) for name in _ROOT_FILES)

# How an attribute reads in the "Details:" sentence of a description; anything else is "<key> <value>".
DETAIL_FORMATS: dict[str, str] = dict(_read("details"))

# What each colour of the palettes looks like, as a CSS hex colour (the demo's product images are drawn in it).
SWATCHES: dict[str, str] = dict(_read("swatches"))


_IRREGULAR = {
    "mouse": "mice", "shelf": "shelves", "scarf": "scarves", "leaf": "leaves", "loaf": "loaves", "half": "halves",
    "wolf": "wolves", "person": "people", "child": "children", "foot": "feet", "tooth": "teeth", "man": "men",
    "woman": "women",
}  # fmt: skip


def plural(noun: str) -> str:
    """ "running shoe" -> "running shoes", "chef's knife" -> "chef's knives", "leggings" stays."""
    head = noun.rsplit(" ", 1)[-1]
    if head.lower() in _IRREGULAR:
        return noun[: len(noun) - len(head)] + _IRREGULAR[head.lower()]
    if head.endswith(("ss", "x", "ch", "sh")):
        return noun + "es"
    if head.endswith("s"):
        return noun
    if head.endswith("y") and head[-2:-1] not in ("a", "e", "o", "u"):
        return noun[:-1] + "ies"
    if head.endswith("fe"):
        return noun[:-2] + "ves"
    return noun + "s"
