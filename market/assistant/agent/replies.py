"""Templated replies: what the assistant says, built from tool results alone.

These are the local backend's replies, and every backend's fallback when the model's text cannot be used
(a backend error, output that failed grounding). They read the same JSON the model was shown, so they can
state nothing the tools did not return.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, get_currency_precision

from market.assistant.agent import answers

GREETING = (
    "Hi! I'm Agora's shopping assistant: I can find products, answer questions about them, compare them, "
    "fill your cart and start checkout. What are you looking for?"
)
TROUBLE = "Sorry, I could not work that out just now. Could you say it again in other words?"
ASK_WHAT = "What are you looking for? Tell me the kind of product, and a budget if you have one."
POLICY = {
    "greeting": GREETING,
    "thanks": "You're welcome! If you need anything else, just tell me what you're looking for.",
    "identity": (
        "Hi! I'm Agora's shopping assistant: a computer program, not a person. I can find products, answer "
        "questions about them, compare them, fill your cart and start checkout. What are you looking for?"
    ),
    "off_topic": (
        "Sorry, I can't help with that: I'm Agora's shopping assistant, so I can only help you find and buy "
        "products from our sellers. What are you shopping for?"
    ),
}
REFUSALS = {
    "discount": (
        "I can't change prices or give discounts: prices are set by each seller, and every order is charged "
        "at the catalog price."
    ),
    "free": (
        "I can't give anything away or mark an order as paid: prices are set by each seller, and every order "
        "is paid through Stripe at the catalog price."
    ),
    "instructions": (
        "I can't share or change how I work, and there is no admin mode. I'm here to help you shop: what are "
        "you looking for?"
    ),
}


def clarifying_question(options: Sequence[str]) -> str:
    """One question offering 3-5 kinds of product from the live catalog."""
    names = [option.rsplit(">", 1)[-1].strip() for option in options]
    listed = ", ".join(names[:-1]) + f" or {names[-1]}"
    return f"Happy to help! What kind of thing do you have in mind: {listed}?"


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
    if name == "answer_question":
        found = [data["answer"], *data.get("also", [])]
        return " ".join(answer_text(data["product"], one) for one in found)
    if name == "compare_products":
        return _compare(data)
    if name == "add_to_cart":
        added = data["added"]
        if "now" in added:
            done = f"Your cart now holds {added['now']} × {added['title']}."
        else:
            done = f"Added {added['quantity']} × {added['title']} to your cart."
        return f"{done}{_closed(data)}\n\n{cart_text(data['cart'])}"
    if name == "remove_from_cart":
        return (
            f"Removed {data['removed']['title']} from your cart.{_closed(data)}\n\n{cart_text(data['cart'])}"
        )
    if name == "view_cart":
        return cart_text(data["cart"])
    if name == "start_checkout":
        return _checkout(data)
    if name == "ask_clarifying_question":
        return data["question"]
    return ""


def _checkout(data: dict[str, Any]) -> str:
    if "orders" not in data:
        return (
            f"Your order is placed and its items are held for you. Total: {data['total']['text']}. "
            f"Pay on Stripe's secure page: {data['checkout_url']}"
        )
    refused = "".join(
        f"\n\nThe items in {one['currency']} could not be ordered: {one['error']}" for one in data.get("refused", [])
    )
    pages = "\n".join(f"- {order['total']['text']}: {order['checkout_url']}" for order in data["orders"])
    return (
        "Your cart holds products priced in different currencies, and a payment is in one currency, so "
        "there is an order for each, its items held for you. Pay each on Stripe's secure page:\n"
        f"{pages}{refused}"
    )


def _closed(data: dict[str, Any]) -> str:
    if not data.get("checkout_closed"):
        return ""
    again = "; say checkout for a new one" if (data.get("cart") or {}).get("item_count") else ""
    return f" The payment page I gave you before is closed, as it was for the old cart{again}."


def _search(data: dict[str, Any]) -> str:
    products = data.get("products", [])
    within = _filters_text(data.get("filters", {}))
    missing = data.get("not_carried")
    lines = "\n".join(f"{p['position']}. {_headline(p)}" for p in products)
    if missing:
        what = missing["what"]
        said = f"Sorry, we don't carry {what}: no seller on Agora lists {'it' if missing['kind'] == 'brand' else 'them'}."
        if not products:
            return f"{said} Tell me what else you're looking for and I'll search for it."
        if missing["kind"] == "brand":
            return (
                f"{said} Here are alternatives from other brands ({data['query']}{_inner(within)}):\n{lines}"
            )
        return f"{said} The closest things we have, as alternatives:\n{lines}"
    if not products and within:  # the filters are exact: nothing the catalog lists meets them all
        return f"No seller on Agora lists “{data['query']}”{within} right now. Try other words or fewer conditions."
    if not products:
        return f"I found nothing for “{data['query']}”. Try other words."
    return f"Here is what I found for “{data['query']}”{within}:\n{lines}"


def _inner(within: str) -> str:
    return f", {within.strip()[1:-1]}" if within else ""


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


_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)


def _compare(data: dict[str, Any]) -> str:
    """One paragraph per comparison asked ("which is cheaper, and which one holds more weight")."""
    return "\n".join(_compared(data, one) for one in [data.get("comparison") or {}, *data.get("also", [])])


def _compared(data: dict[str, Any], comparison: dict[str, Any]) -> str:
    names = {
        product["product_id"]: (
            f"the {_ORDINAL_WORDS[product['position'] - 1]} ({product['title']})"
            if 0 < product.get("position", 0) <= len(_ORDINAL_WORDS)
            else product["title"]
        )
        for product in data["products"]
    }
    label = comparison.get("attribute", "price").replace("_", " ")
    if comparison.get("verdict") == "silent":
        return f"The listings don't say their {label}, so I can't tell which is {comparison.get('phrase', 'better')}."
    values = comparison.get("values", {})
    parts = [f"{names.get(int(pid), pid)}: {value}" for pid, value in values.items()]
    text = f"{label.capitalize()} — " + "; ".join(parts) + "."
    if comparison.get("tie"):
        return text + f" They are the same on {label}."
    winner = names.get(comparison.get("winner"), "")
    phrase = comparison.get("phrase", "")
    higher = "higher" if comparison.get("wants") == "max" else "lower"
    verdict = f"is {phrase}" if re.fullmatch(r"[a-z]+er", phrase) else f"has the {higher} {label}"
    return text + f" {winner[:1].upper() + winner[1:]} {verdict}."


def answer_text(product: dict[str, Any], found: dict[str, Any]) -> str:
    """A property of one product as its listing gives it, or that the listing doesn't say."""
    title, name = product.get("title", "This product"), found.get("property", "")
    label = name.replace("_", " ")
    verdict = found.get("verdict")
    seller = found.get("seller", "The seller")
    if name == "shipping":
        if verdict == "silent":
            return f"{seller} doesn't say where it ships; the payment page shows shipping before you pay."
        where = ", ".join(found.get("countries", []))
        cost = f" Shipping costs {found['price']['text']}" if found.get("price") else ""
        if cost and found.get("free_over"):
            cost += f", free over {found['free_over']['text']}"
        cost = f"{cost}." if cost else ""
        if verdict in ("yes", "no"):
            does = "ships" if verdict == "yes" else "does not ship"
            return f"{seller} {does} to {found['country']} (it ships to {where}).{cost}"
        return f"{seller} ships to {where}.{cost}"
    if name == "returns":
        if verdict == "silent":
            return f"{seller} doesn't say whether {title} can be returned."
        if verdict == "no":
            return f"{seller} does not accept returns."
        return f"{seller} accepts returns: {found['value']}."
    if name in ("sizes", "colors"):
        kind = "size" if name == "sizes" else "colour"
        own = f" (this one is {found['own']})" if found.get("own") else ""
        if verdict == "yes":
            return f"Yes: the seller also lists {title} in {kind}s {found['value']}{own}."
        return f"The seller lists {title} in this {kind} only{own}."
    if verdict == "value":
        return f"{title} — {label}: {found['value']}."
    if verdict in ("yes", "no") and found.get("value"):
        return f"{verdict.capitalize()}: {title} — {label}: {found['value']}."
    if verdict == "yes" and found.get("evidence"):
        return f"Yes — the listing of {title} says: “{found['evidence']}”"
    return f"The listing of {title} doesn't say ({answers.label(name)})."


def _headline(product: dict[str, Any]) -> str:
    """`Title (Brand) — $129.99, was $149.99 (13% off), in stock`."""
    parts = [product["title"]]
    if product.get("brand"):
        parts[0] += f" ({product['brand']})"
    price = product.get("price")
    if price:
        text = price["text"]
        if product.get("converted_price"):
            text += f" (≈ {product['converted_price']['text']})"
        if product.get("list_price") and product.get("discount_percent"):
            was = product["list_price"]["text"]
            if product.get("converted_list_price"):
                was += f" (≈ {product['converted_list_price']['text']})"
            text += f", was {was} ({product['discount_percent']}% off)"
        parts.append(text)
    if product.get("color"):
        parts.append(str(product["color"]))
    if product.get("availability") == "preorder":
        parts.append("preorder, not in stock yet")
    elif product.get("availability") == "not_sold_here":
        parts.append("not for sale on Agora right now")
    elif "in_stock" in product:
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
    for key in ("brand", "color", "size", "category"):
        if filters.get(key):
            said = _value(filters[key])
            pieces.append(f"{key} {said.replace(', ', ' or ') if key == 'color' else said}")  # black or navy
    for key, values in (filters.get("attributes") or {}).items():
        pieces.append(f"{key.replace('_', ' ')} {_value(values).replace(', ', ' or ')}")
    for key in ("exclude_brands", "exclude_colors", "exclude_categories", "exclude_values"):
        if filters.get(key):
            pieces.append(f"not {_value(filters[key]).replace(', ', ' or ')}")
    if filters.get("in_stock"):
        pieces.append("in stock")
    return f" ({', '.join(pieces)})" if pieces else ""


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
