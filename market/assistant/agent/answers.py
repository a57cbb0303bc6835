"""Answers about shown products from their listings: a property asked about ("is it machine washable?",
"does it ship to Canada?") and a comparison along an attribute ("which of the two is heavier?").

Everything comes from the product's own data: its attributes, the sentences of its description, the
seller's other listings of the same product (other sizes and colours) and the seller's policies. What the
listing does not say is answered as such ("the listing doesn't say"), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from market.assistant.reading import quantities
from market.assistant.reading.questions import Comparison, Question

# A property asked about that the catalog may spell as another attribute: a sleeping bag's "material" is
# its fill.
_FALLBACKS = {"material": ("material", "fill", "handle"), "weight": ("weight", "max_weight")}
# Words in a description that answer a property no attribute holds.
_DESCRIPTION_TERMS = {
    "care": (
        "machine wash",
        "machine-wash",
        "washable",
        "dishwasher",
        "hand wash",
        "dry clean",
        "wipe clean",
    ),
    "warranty": ("warranty", "guarantee"),
    "battery_life": ("battery life", "hours of battery", "hour battery"),
    "cruelty_free": ("cruelty-free", "cruelty free", "not tested on animals"),
    "origin": ("made in", "manufactured in", "assembled in", "country of origin"),
}
_LABELS = {
    "care": "care instructions", "warranty": "warranty", "sizes": "other sizes", "colors": "other colours",
    "shipping": "shipping", "returns": "returns", "temperature_rating": "temperature rating",
    "max_weight": "maximum weight", "key_ingredient": "key ingredient", "noise_control": "noise control",
    "cruelty_free": "whether it is cruelty-free", "origin": "where it is made",
}  # fmt: skip
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_UNQUOTABLE = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|example|shop|store)\b|\b(?:instruction|ignore|prompt|cart|checkout|"
    r"check\s+out|discount|coupon|pay\s+(?:at|now|here)|assistant|system)\b",
    re.IGNORECASE,
)
_SHOUTED = re.compile(r"\b[A-Z]{3,}\s+[A-Z]{3,}\b")


def label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " "))


def answer(question: Question, product: Mapping[str, Any]) -> dict[str, Any]:
    """The answer to `question` about one product (as the product_details tool describes it):
    {"property", "verdict": "value" | "yes" | "no" | "silent", "value"?, "evidence"?}."""
    for name in question.properties:
        found = _answer_one(name, question, product)
        if found is not None:
            return found
    asked = question.properties[0]
    return {"property": asked, "verdict": "silent"}


def _answer_one(name: str, question: Question, product: Mapping[str, Any]) -> dict[str, Any] | None:
    attributes = product.get("attributes") or {}
    if name == "price" and product.get("price"):
        return {"property": "price", "verdict": "value", "value": product["price"]["text"]}
    if name == "availability":
        return {"property": "availability", "verdict": "value", "value": _availability(product)}
    if name in ("brand", "seller"):
        value = product.get("brand") if name == "brand" else product.get("seller_name")
        return {"property": name, "verdict": "value", "value": value} if value else None
    if name in ("sizes", "colors"):
        return _variants(name, product)
    if name in ("shipping", "returns"):
        return _policy(name, question, product)
    if name == "description":
        sentences = clean_sentences(product.get("description") or "")
        attributes = "; ".join(
            f"{key.replace('_', ' ')}: {_text(value)}" for key, value in attributes.items()
        )
        text = " ".join([*sentences[:2], *([f"({attributes})"] if attributes else [])]).strip()
        return {"property": "description", "verdict": "value", "value": text} if text else None
    for key in _FALLBACKS.get(name, (name,)):
        if key in attributes and attributes[key] not in (None, "", []):
            value = _text(attributes[key])
            asked = [wanted for named_key, wanted in question.named if named_key == key]
            if asked:  # "is it goose down?": yes or no, with what the listing says
                verdict = "yes" if any(wanted.lower() in value.lower() for wanted in asked) else "no"
                return {"property": key, "verdict": verdict, "value": value}
            return {"property": key, "verdict": "value", "value": value}
    for term in _DESCRIPTION_TERMS.get(name, ()):
        sentence = _sentence_with(product.get("description") or "", term)
        if sentence:
            return {"property": name, "verdict": "yes", "evidence": sentence}
    return None


def _availability(product: Mapping[str, Any]) -> str:
    availability = product.get("availability", "in_stock")
    if availability == "preorder":
        return "available for preorder, not in stock yet"
    if availability != "in_stock" or not product.get("available"):
        return "out of stock"
    return f"in stock ({product['available']} available)"


def _variants(name: str, product: Mapping[str, Any]) -> dict[str, Any]:
    key = "size" if name == "sizes" else "color"
    own = (product.get("attributes") or {}).get(key)
    others = sorted(
        {
            str(variant[key])
            for variant in product.get("variants", [])
            if variant.get(key) and variant[key] != own
        },
        key=_size_order,
    )
    if others:
        return {"property": name, "verdict": "yes", "value": ", ".join(others), "own": own}
    return {"property": name, "verdict": "no", "own": own}


def _policy(name: str, question: Question, product: Mapping[str, Any]) -> dict[str, Any]:
    policy = product.get("policy") or {}
    seller = product.get("seller_name") or "The seller"
    if name == "returns":
        days = policy.get("return_window_days")
        if days is None:
            return {"property": "returns", "verdict": "silent", "seller": seller}
        if days == 0:
            return {"property": "returns", "verdict": "no", "value": "no returns", "seller": seller}
        return {"property": "returns", "verdict": "yes", "value": f"{days}-day returns", "seller": seller}
    countries = policy.get("ships_to") or []
    if not countries:
        return {"property": "shipping", "verdict": "silent", "seller": seller}
    price = policy.get("shipping_price")
    found: dict[str, Any] = {"property": "shipping", "seller": seller, "countries": countries}
    if price is not None:
        found["price"] = price
    if policy.get("free_shipping_over"):
        found["free_over"] = policy["free_shipping_over"]
    if question.country:
        found["country"] = question.country
        found["verdict"] = "yes" if question.country in countries else "no"
    else:
        found["verdict"] = "value"
    return found


def compare(comparison: Comparison, products: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The products compared along the first attribute of `comparison` that at least two of them have:
    {"attribute", "values": {product_id: text}, "winner": product_id | None, "tie": bool} or, when the
    listings do not say, {"attribute", "verdict": "silent"}."""
    for attribute in comparison.attributes:
        values, parsed = {}, {}
        for product in products:
            raw = (
                _price_value(product)
                if attribute == "price"
                else (product.get("attributes") or {}).get(attribute)
            )
            quantity = quantities.parse(raw) if attribute != "price" else raw
            if raw is not None and quantity is not None:
                values[product["product_id"]] = _price_text(product) if attribute == "price" else _text(raw)
                parsed[product["product_id"]] = quantity
        if len(parsed) < 2:
            continue
        ids = list(parsed)
        magnitudes = (
            list(parsed.values()) if attribute == "price" else quantities.comparable(list(parsed.values()))
        )
        if magnitudes is None:
            continue
        best = max(magnitudes) if comparison.wants == "max" else min(magnitudes)
        winners = [pid for pid, magnitude in zip(ids, magnitudes, strict=True) if magnitude == best]
        return {
            "attribute": attribute,
            "wants": comparison.wants,
            "phrase": comparison.phrase,
            "values": values,
            "winner": winners[0] if len(winners) == 1 else None,
            "tie": len(winners) > 1,
        }
    return {"attribute": comparison.attributes[0], "verdict": "silent", "phrase": comparison.phrase}


def _price_text(product: Mapping[str, Any]) -> str:
    """"€50.99 (≈ £43.78)": the product's own price, and the one it is compared in when that differs."""
    own, compared = product["price"], product.get("compare_price")
    if compared and compared["currency"] != own["currency"]:
        return f"{own['text']} (≈ {compared['text']})"
    return own["text"]


def _price_value(product: Mapping[str, Any]) -> Decimal | None:
    """A product's price in one currency for comparing: its own, or the converted one when they differ."""
    price = product.get("compare_price") or product.get("price")
    return Decimal(price["amount"]) if price else None


def _sentence_with(description: str, term: str) -> str | None:
    for sentence in clean_sentences(description):
        if term.lower() in sentence.lower():
            return sentence
    return None


def clean_sentences(description: str) -> list[str]:
    """The description's sentences fit to quote to a shopper: seller text is data, so a sentence with a link,
    a shouted instruction or talk of carts and checkout is left out."""
    return [
        sentence.strip()
        for sentence in _SENTENCE.split(description.strip())
        if sentence.strip() and not _UNQUOTABLE.search(sentence) and not _SHOUTED.search(sentence)
    ]


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _size_order(size: str) -> tuple[int, Decimal, str]:
    letters = ["XS", "S", "M", "L", "XL", "XXL"]
    if size.upper() in letters:
        return (0, Decimal(letters.index(size.upper())), size)
    number = re.match(r"\d+(?:\.\d+)?", size)
    return (1, Decimal(number.group(0)), size) if number else (2, Decimal(0), size)
