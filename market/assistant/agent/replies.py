"""Templated replies: what the assistant says, built from tool results alone.

These are the local backend's replies, and every backend's fallback when the model's text cannot be used
(a backend error, output that failed grounding). They read the same JSON the model was shown, so they can
state nothing the tools did not return.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, get_currency_precision

GREETING = (
    "I can search the catalog, show a product's details, compare products, fill your cart and start "
    "checkout. What are you looking for?"
)
TROUBLE = "Sorry, I could not work that out just now. Could you say it again in other words?"


def money(amount: int, currency: str) -> str:
    """`$129.99` for 12999 USD: minor units scaled by the currency's own exponent, never through a float."""
    value = Decimal(amount).scaleb(-get_currency_precision(currency))
    return format_currency(value, currency, locale="en_US")


def money_json(amount: int, currency: str) -> dict[str, Any]:
    """Money as the tools hand it to the model: exact minor units, and the text to quote."""
    return {"amount": amount, "currency": currency, "text": money(amount, currency)}


def compose(results: list[tuple[str, dict[str, Any]]]) -> str:
    """The reply for one turn: a paragraph per tool result, in order (name and result JSON of each)."""
    parts = [_reply_for(name, data) for name, data in results]
    return "\n\n".join(part for part in parts if part) or GREETING


def confirm_checkout(cart: dict[str, Any]) -> str:
    """Asked instead of starting checkout when the shopper has not confirmed in this very message."""
    if not cart.get("item_count"):
        return "Your cart is empty, so there is nothing to check out yet."
    return (
        f'{cart_text(cart)}\n\nShall I start checkout? Say "yes, check out" to confirm; you pay on '
        "Stripe's secure page."
    )


def cart_text(cart: dict[str, Any]) -> str:
    if not cart.get("item_count"):
        return "Your cart is empty."
    lines = [
        f"- {line['quantity']} × {line['title']}: {line['line_total']['text']}"
        + ("" if line.get("purchasable", True) else f" (cannot be bought now: {line.get('problem')})")
        for line in cart.get("lines", [])
    ]
    totals = " + ".join(total["text"] for total in cart.get("totals", []))
    count = cart["item_count"]
    return f"Your cart ({count} item{'s' if count != 1 else ''}):\n" + "\n".join(lines) + f"\nTotal: {totals}"


def _reply_for(name: str, data: dict[str, Any]) -> str:
    if "error" in data:
        return f"I could not do that: {data['error']}"
    if name == "search_products":
        return _search(data)
    if name == "product_details":
        return _details(data["product"])
    if name == "compare_products":
        return _compare(data)
    if name == "add_to_cart":
        added = data["added"]
        return f"Added {added['quantity']} × {added['title']} to your cart.\n\n{cart_text(data['cart'])}"
    if name == "remove_from_cart":
        return f"Removed {data['removed']['title']} from your cart.\n\n{cart_text(data['cart'])}"
    if name == "view_cart":
        return cart_text(data["cart"])
    if name == "start_checkout":
        return (
            f"Your order is placed and its items are held for you. Total: {data['total']['text']}. "
            f"Pay on Stripe's secure page: {data['checkout_url']}"
        )
    if name == "ask_clarifying_question":
        return data["question"]
    return ""


def _search(data: dict[str, Any]) -> str:
    products = data.get("products", [])
    within = _filters_text(data.get("filters", {}))
    if not products:
        return f"I found nothing for “{data['query']}”{within}. Try other words" + (
            " or fewer conditions." if within else "."
        )
    lines = [f"{p['position']}. {_headline(p)}" for p in products]
    return f"Here is what I found for “{data['query']}”{within}:\n" + "\n".join(lines)


def _details(product: dict[str, Any]) -> str:
    lines = [_headline(product)]
    if product.get("seller_name"):
        lines.append(f"Sold by {product['seller_name']}.")
    stock = product.get("available")
    if stock:
        lines.append(f"In stock: {stock} available.")
    else:
        lines.append(f"Not available right now ({product.get('availability', 'out of stock')}).")
    attributes = product.get("attributes") or {}
    if attributes:
        lines.append(
            "; ".join(f"{key.replace('_', ' ')}: {_value(value)}" for key, value in attributes.items())
        )
    return "\n".join(lines)


def _compare(data: dict[str, Any]) -> str:
    lines = [f"{index}. {_headline(p)}" for index, p in enumerate(data["products"], start=1)]
    cheapest = data.get("cheapest")
    for product in data["products"]:
        if product["product_id"] == cheapest:
            lines.append(f"The cheapest is {product['title']}.")
    return "Side by side:\n" + "\n".join(lines)


def _headline(product: dict[str, Any]) -> str:
    """`Title (Brand) — $129.99, was $149.99 (13% off), in stock`."""
    parts = [product["title"]]
    if product.get("brand"):
        parts[0] += f" ({product['brand']})"
    price = product.get("price")
    if price:
        text = price["text"]
        if product.get("list_price") and product.get("discount_percent"):
            text += f", was {product['list_price']['text']} ({product['discount_percent']}% off)"
        parts.append(text)
    if product.get("color"):
        parts.append(str(product["color"]))
    if "in_stock" in product:
        parts.append("in stock" if product["in_stock"] else "out of stock")
    return " — ".join(parts[:1]) + (" — " + ", ".join(parts[1:]) if len(parts) > 1 else "")


def _filters_text(filters: dict[str, Any]) -> str:
    pieces = []
    low, high = filters.get("min_price"), filters.get("max_price")
    if low and high:
        pieces.append(f"between {low['text']} and {high['text']}")
    elif high:
        pieces.append(f"up to {high['text']}")
    elif low:
        pieces.append(f"from {low['text']}")
    for key in ("brand", "color", "category"):
        if filters.get(key):
            pieces.append(f"{key} {_value(filters[key])}")
    if filters.get("in_stock"):
        pieces.append("in stock")
    return f" ({', '.join(pieces)})" if pieces else ""


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
