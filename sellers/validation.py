"""Turning what a seller sent into products Agora can store, or into a precise reason why not.

Shape and types are checked by msgspec against `ProductIn`; the rules msgspec cannot express (one name per
field, current or former; known currency and country codes, GTIN check digits, price below list price, a
well-formed category path, no control character in any text, no JSON nested past the limit) are checked
here. Every problem names the field at
fault, so a seller can fix the row and send it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from babel import Locale
from babel.numbers import list_currencies
from msgspec import UNSET

from market.core.control_chars import find_control_character
from market.core.errors import split_msgspec_message
from market.core.json_depth import TOO_DEEP, exceeds_depth
from sellers.schemas import ProductIn

# Codes that are not money one can charge in (no currency, testing, precious metals).
_NOT_CHARGEABLE = {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT"}
KNOWN_CURRENCIES = frozenset(list_currencies()) - _NOT_CHARGEABLE
CATEGORY_SEPARATOR = " > "
# Alpha-2 codes that name no country (EU, UN, unknown region, ...).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
KNOWN_COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)
# The product feed's former field names, and the current name each stands for.
FORMER_NAMES = {
    "id": "item_id",
    "link": "url",
    "image_link": "image_url",
    "item_group_id": "group_id",
    "enable_search": "is_eligible_search",
    "enable_checkout": "is_eligible_checkout",
}


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
    images: list[str]  # `image_url` first, then `additional_image_urls`
    url: str | None
    gtin: str | None
    enable_search: bool  # is_eligible_search
    enable_checkout: bool  # is_eligible_checkout
    group_id: str | None
    listing_has_variations: bool
    condition: str | None
    store_country: str | None
    target_countries: list[str]
    shipping_price_amount: int | None  # in the price's currency
    return_deadline_in_days: int | None
    accepts_returns: bool | None


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
    external_id = current_value(item, "item_id")
    if external_id is UNSET:
        raise Problem("item_id", "is required (the seller's own id of the product)")
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
    _check_countries(item)
    shipping_amount = None
    if item.shipping_price is not None:
        if (item.shipping_price.currency or currency) != currency:
            raise Problem("shipping_price.currency", f"must be the price's currency ({currency})")
        shipping_amount = item.shipping_price.amount
    if item.accepts_returns is False and item.return_deadline_in_days:
        raise Problem("return_deadline_in_days", "a return deadline needs accepts_returns true (or unsaid)")
    group_id, listing_has_variations = _variation(item)

    title = " ".join(item.title.split())
    if not title:
        raise Problem("title", "must not be blank")
    url = current_value(item, "url")
    search, checkout = current_value(item, "is_eligible_search"), current_value(item, "is_eligible_checkout")
    return ProductRecord(
        external_id=external_id,
        title=title,
        description=item.description.strip(),
        brand=" ".join(item.brand.split()),
        category=normalise_category(item.category),
        currency=currency,
        price_amount=item.price.amount,
        list_price_amount=list_price_amount,
        availability="preorder" if item.availability == "pre_order" else item.availability,
        inventory_quantity=item.inventory_quantity,
        attributes=item.attributes,
        images=_images(item),
        url=None if url is UNSET else url,
        gtin=item.gtin,
        enable_search=True if search is UNSET else search,
        enable_checkout=True if checkout is UNSET else checkout,
        group_id=group_id,
        listing_has_variations=listing_has_variations,
        condition=item.condition,
        store_country=item.store_country,
        target_countries=list(dict.fromkeys(item.target_countries)),
        shipping_price_amount=shipping_amount,
        return_deadline_in_days=item.return_deadline_in_days,
        accepts_returns=item.accepts_returns,
    )


def current_value(item: Any, current: str) -> Any:
    """The value sent for a field under its current name or its former one (UNSET: neither); a Problem if
    both were sent, even with equal values, so that which name wins is never a question."""
    former = next(name for name, now in FORMER_NAMES.items() if now == current)
    value, former_value = getattr(item, current), getattr(item, former)
    if value is not UNSET and former_value is not UNSET:
        raise Problem(current, f"sent twice, as `{current}` and as its former name `{former}`; send one")
    return former_value if value is UNSET else value


def _variation(item: ProductIn) -> tuple[str | None, bool]:
    """The product's group (None: it stands alone) and whether it is one of several variants; unsaid, it
    is when it names a group."""
    group_id = current_value(item, "group_id")
    group_id = None if group_id is UNSET or group_id is None else " ".join(group_id.split())
    if item.listing_has_variations is None:
        return group_id, group_id is not None
    if item.listing_has_variations and group_id is None:
        raise Problem("group_id", "is required when listing_has_variations is true")
    return group_id, item.listing_has_variations


def _images(item: ProductIn) -> list[str]:
    main = current_value(item, "image_url")
    if item.images is not UNSET:
        if main is not UNSET or item.additional_image_urls is not UNSET:
            given = "image_url" if main is not UNSET else "additional_image_urls"
            raise Problem(given, f"sent with `images`, its former form; send `{given}` only")
        return item.images
    images = [] if main is UNSET or main is None else [main]
    if item.additional_image_urls is not UNSET:
        if not images and item.additional_image_urls:
            raise Problem("image_url", "additional_image_urls need a main image_url")
        images += item.additional_image_urls
    return images


def _check_countries(item: ProductIn) -> None:
    if item.store_country is not None and item.store_country not in KNOWN_COUNTRIES:
        raise Problem("store_country", f"{item.store_country!r} is not an ISO 3166-1 alpha-2 country")
    for index, code in enumerate(item.target_countries):
        if code not in KNOWN_COUNTRIES:
            raise Problem(f"target_countries[{index}]", f"{code!r} is not an ISO 3166-1 alpha-2 country")


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
        value = data.get("item_id", data.get("id"))
    elif exceeds_depth(data):
        return None
    else:
        try:
            fields = msgspec.json.decode(data, type=dict[str, Any])
            value = fields.get("item_id", fields.get("id"))
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
    return value if isinstance(value, str) else None
