"""Turning what a seller sent into products Agora can store, or into a precise reason why not.

Shape and types are checked by msgspec against `ProductIn`; the rules msgspec cannot express (known
currency codes, GTIN check digits, price below list price, a well-formed category path, no control
character in any text, no JSON nested past the limit) are checked here. Every problem names the field at
fault, so a seller can fix the row and send it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from babel.numbers import list_currencies

from market.core.control_chars import find_control_character
from market.core.errors import split_msgspec_message
from market.core.json_depth import TOO_DEEP, exceeds_depth
from sellers.schemas import ProductIn

# Codes that are not money one can charge in (no currency, testing, precious metals).
_NOT_CHARGEABLE = {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT"}
KNOWN_CURRENCIES = frozenset(list_currencies()) - _NOT_CHARGEABLE
CATEGORY_SEPARATOR = " > "


class ProductRecord(msgspec.Struct, kw_only=True):
    """A valid product, normalised and flattened as the catalog table stores it."""

    external_id: str
    title: str
    description: str
    brand: str
    category: str
    currency: str
    price_amount: int
    list_price_amount: int | None
    availability: str
    inventory_quantity: int
    attributes: dict[str, Any]
    images: list[str]
    url: str | None
    gtin: str | None
    enable_search: bool
    enable_checkout: bool


@dataclass(frozen=True)
class Problem(Exception):
    """What is wrong with one product: the field (dotted path, None for the whole item) and why."""

    field: str | None
    message: str


def decode_product(data: bytes | dict[str, Any], *, from_text: bool = False) -> ProductIn:
    """Check the shape of one product. `from_text` accepts strings for numbers and booleans (CSV cells)."""
    try:
        if isinstance(data, (bytes, bytearray, memoryview, str)):
            if exceeds_depth(data):
                raise Problem(None, TOO_DEEP)
            product = msgspec.json.decode(data, type=ProductIn)
        else:
            product = msgspec.convert(data, ProductIn, strict=not from_text)
    except msgspec.ValidationError as exc:
        raise problem_from_msgspec(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise Problem(None, f"not valid JSON: {exc}") from None
    # PostgreSQL refuses a NUL in text and in jsonb, and would fail the whole batch for it.
    if fault := find_control_character(product):
        raise Problem(fault.where or None, fault.message)
    return product


def check_product(item: ProductIn, default_currency: str) -> ProductRecord:
    """Apply the catalog's rules to a well-shaped product and normalise it for storage."""
    currency = item.price.currency or default_currency
    check_currency(currency, "price.currency")
    list_price_amount = None
    if item.list_price is not None:
        list_currency = item.list_price.currency or currency
        if list_currency != currency:
            raise Problem(
                "list_price.currency", f"must be the price's currency ({currency}), not {list_currency}"
            )
        if item.list_price.amount < item.price.amount:
            raise Problem("list_price.amount", "must not be lower than price.amount")
        list_price_amount = item.list_price.amount
    if item.gtin is not None and not gtin_check_digit_ok(item.gtin):
        raise Problem("gtin", f"{item.gtin!r} has a wrong check digit")

    title = " ".join(item.title.split())
    if not title:
        raise Problem("title", "must not be blank")
    return ProductRecord(
        external_id=item.id,
        title=title,
        description=item.description.strip(),
        brand=" ".join(item.brand.split()),
        category=normalise_category(item.category),
        currency=currency,
        price_amount=item.price.amount,
        list_price_amount=list_price_amount,
        availability=item.availability,
        inventory_quantity=item.inventory_quantity,
        attributes=item.attributes,
        images=item.images,
        url=item.url,
        gtin=item.gtin,
        enable_search=item.enable_search,
        enable_checkout=item.enable_checkout,
    )


def check_currency(code: str, where: str) -> None:
    if code not in KNOWN_CURRENCIES:
        raise Problem(where, f"{code!r} is not an ISO 4217 currency code")


def normalise_category(path: str) -> str:
    """`shoes>running ` becomes `shoes > running`: parts trimmed, one separator, no empty parts."""
    parts = [" ".join(part.split()) for part in path.split(">")]
    if any(not part for part in parts):
        raise Problem("category", f"{path!r} has an empty part; write a path such as 'Shoes > Running'")
    return CATEGORY_SEPARATOR.join(parts)


def gtin_check_digit_ok(gtin: str) -> bool:
    """GS1 check digit: weights 3 and 1 alternate from the right, starting next to the check digit."""
    digits = [int(char) for char in gtin]
    body, check = digits[:-1], digits[-1]
    total = sum(digit * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def problem_from_msgspec(message: str) -> Problem:
    what, path = split_msgspec_message(message)
    return Problem(path, what)


def product_id_of(data: bytes | dict[str, Any]) -> str | None:
    """Best effort to name a rejected item by its id, even when the item as a whole is unusable."""
    if isinstance(data, dict):
        value = data.get("id")
    elif exceeds_depth(data):
        return None
    else:
        try:
            value = msgspec.json.decode(data, type=dict[str, Any]).get("id")
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
    return value if isinstance(value, str) else None
