"""The assistant's tools as the model sees them: their arguments (msgspec Structs, whose JSON schema is the
tool's parameters), the rule for starting checkout, and what running a tool gives back (`ToolResult`).

`toolbox.Toolbox` carries the calls out.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

from market.assistant.llm.messages import ToolCall, ToolSpec
from market.core.money import Money
from market.orders.schemas import CartView
from ranking.search_types import VariantOption

MinorUnits = Annotated[int, Meta(ge=0, description="in minor units of the currency: $120.00 is 12000")]
ProductId = Annotated[int, Meta(ge=1, description="a product_id from an earlier tool result")]
Words = Annotated[str, Meta(min_length=1, max_length=200)]


class SearchProducts(Struct, forbid_unknown_fields=True, kw_only=True):
    """Search the catalog. Put prices, brand, category and colour in their own fields, not in the query."""

    query: Annotated[str, Meta(min_length=1, max_length=200, description="what the shopper wants, in words")]
    max_price: MinorUnits | None = None
    min_price: MinorUnits | None = None
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD")] | None = None
    category: (
        Annotated[str, Meta(min_length=1, max_length=200, description="e.g. Shoes > Running")] | None
    ) = None
    brand: Words | None = None
    color: Words | None = None
    colors: Annotated[list[Words], Meta(max_length=10)] | None = None
    size: Words | None = None
    exclude_brands: Annotated[
        list[Words], Meta(max_length=10, description="brands the shopper turned down")
    ] = []
    exclude_colors: Annotated[list[Words], Meta(max_length=10)] = []
    exclude_categories: Annotated[list[Words], Meta(max_length=10)] = []
    attributes: Annotated[
        dict[str, list[Words]], Meta(max_length=10, description='e.g. {"capacity": ["4-person"]}')
    ] = {}
    exclude_attributes: Annotated[dict[str, list[Words]], Meta(max_length=10)] = {}
    in_stock: bool | None = None
    count: Annotated[int, Meta(ge=1, le=10, description="how many products to show, when the shopper said")] | None = (
        None
    )
    show_prices_in: (
        Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217: also show prices converted to it")]
        | None
    ) = None


class ProductDetails(Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything known about one product: price, stock, attributes, seller, description."""

    product_id: ProductId


class CompareProducts(Struct, forbid_unknown_fields=True, kw_only=True):
    """Two to four products side by side, along what the shopper asks ("heavier", "cheaper", "brighter")."""

    product_ids: Annotated[list[ProductId], Meta(min_length=2, max_length=4)]
    along: (
        Annotated[str, Meta(max_length=200, description="the shopper's words: which is lighter?")] | None
    ) = None
    # Their numbers in the list shown, to name them by ("the second is heavier").
    positions: Annotated[list[Annotated[int, Meta(ge=1, le=100)]], Meta(max_length=4)] = []
    show_prices_in: (
        Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217: prices compared converted to it")]
        | None
    ) = None


class AnswerQuestion(Struct, forbid_unknown_fields=True, kw_only=True):
    """Answer a question about one product from its listing, its seller's policies and its other sizes and
    colours ("is it machine washable?", "does it ship to Canada?")."""

    product_id: ProductId
    question: Annotated[str, Meta(min_length=1, max_length=300)]
    show_prices_in: (
        Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217: also give the price converted to it")]
        | None
    ) = None


class AddToCart(Struct, forbid_unknown_fields=True, kw_only=True):
    """Put units of a product in the shopper's cart ("make it 2": `exact`, the cart then holds 2)."""

    product_id: ProductId
    quantity: Annotated[int, Meta(ge=1, le=20)] = 1
    exact: bool = False


class RemoveFromCart(Struct, forbid_unknown_fields=True, kw_only=True):
    """Take a product out of the shopper's cart."""

    product_id: ProductId


class ViewCart(Struct, forbid_unknown_fields=True, kw_only=True):
    """What the cart holds now, at today's prices."""


class StartCheckout(Struct, forbid_unknown_fields=True, kw_only=True):
    """Order the cart and get Stripe's payment page. Only when the shopper has just confirmed."""


class AskClarifyingQuestion(Struct, forbid_unknown_fields=True, kw_only=True):
    """Ask the shopper one short question when the request is unclear."""

    question: Annotated[str, Meta(min_length=1, max_length=300)]
    options: Annotated[list[Words], Meta(max_length=5, description="kinds of product to choose from")] = []


TOOLS: dict[str, type[Struct]] = {
    "search_products": SearchProducts,
    "product_details": ProductDetails,
    "compare_products": CompareProducts,
    "answer_question": AnswerQuestion,
    "add_to_cart": AddToCart,
    "remove_from_cart": RemoveFromCart,
    "view_cart": ViewCart,
    "start_checkout": StartCheckout,
    "ask_clarifying_question": AskClarifyingQuestion,
}
CART_TOOLS = frozenset({"add_to_cart", "remove_from_cart", "start_checkout"})


# Arguments the layer fills and the model is not shown: every token of the tools' schemas is read with each
# prompt, and a small model's context (4,096 tokens on the local server) holds little more than them.
LAYER_ONLY = frozenset({"show_prices_in"})


def tool_specs() -> list[ToolSpec]:
    """Every tool as the model sees it: name, what it does, the JSON schema of its arguments."""
    specs = []
    for name, kind in TOOLS.items():
        schema = msgspec.json.schema(kind)
        parameters = dict(schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]])
        properties = {
            key: value for key, value in parameters.get("properties", {}).items() if key not in LAYER_ONLY
        }
        parameters["properties"] = properties
        description = parameters.pop("description", "")
        parameters.pop("title", None)
        specs.append(ToolSpec(name=name, description=description, parameters=parameters))
    return specs


class InvalidToolCall(ValueError):
    """A call naming no tool, or with arguments its Struct refuses; the message says which and why."""


def parse_call(call: ToolCall) -> Struct:
    kind = TOOLS.get(call.name)
    if kind is None:
        raise InvalidToolCall(f"there is no tool {call.name!r}; the tools are {', '.join(TOOLS)}")
    try:
        return msgspec.convert(call.arguments, kind)
    except msgspec.ValidationError as exc:
        raise InvalidToolCall(f"invalid arguments for {call.name}: {exc}") from None


_AFFIRMATIVE = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|confirm(?:ed)?|go ahead|do it|please do|proceed|let'?s do it|"
    r"sounds good|absolutely|of course|correct)\b",
    re.IGNORECASE,
)
# A request to check out now, in the shopper's words ("ok checkout", "take me to checkout", "let's pay",
# "proceed to payment", "I confirm the order"): the checkout starts at once, because Stripe's payment page,
# which shows every line and the total, is where the shopper says the final yes.
_REQUEST = re.compile(
    r"\b(?:check\s?(?:me\s+)?out|chec?kout|chekout|payment|place\s+(?:the\s+|my\s+)?order|"
    r"(?:let'?s|ready\s+to|want\s+to|wanna|time\s+to)\s+pay|pay\s+(?:now|for\s+(?:it|them|this|everything|my))|"
    r"i\s+confirm|confirm(?:ed)?\s+(?:the\s+|my\s+)?(?:checkout|order|purchase|payment))\b",
    re.IGNORECASE,
)
# Asked as a question, only the plain "can we check out?" is a request; "can I pay with PayPal?" asks about
# paying, and "should I just buy them now?" is a shopper still deciding.
_ASKED_REQUEST = re.compile(
    r"^\W*(?:ok(?:ay)?\W+|so\W+)?(?:can|could|may)\s+(?:we|i)\s+(?:now\s+)?(?:check\s?out|pay)(?:\s+now)?\W*$",
    re.IGNORECASE,
)
_REFUSAL = re.compile(r"\b(?:no|not|don'?t|do not|never|wait|cancel|hold on|stop|later|yet)\b", re.IGNORECASE)


def confirms_checkout(text: str, *, asked: bool) -> bool:
    """Whether this shopper message asks to check out now.

    A request in its own words counts ("checkout please", "let's pay"); a bare "yes" counts only as the
    answer to the assistant's own question of the previous turn. A question other than "can we check out?"
    or any negation ("no", "not yet", "don't", "later") is no request at all.
    """
    last_clause = re.split(r"(?<=[.!?])\s+", text.strip())[-1]
    if _REFUSAL.search(text):
        return False
    if last_clause.rstrip().endswith("?"):
        return bool(_ASKED_REQUEST.search(last_clause))
    return bool(_REQUEST.search(text) or (asked and _AFFIRMATIVE.search(text)))


class ProductCard(Struct, kw_only=True, omit_defaults=True):
    """A product as the shopper's screen shows it."""

    product_id: int
    title: str
    position: int
    seller_id: str | None = None
    seller_name: str | None = None
    price: Money | None = None
    # The price in the currency the shopper's budget was given in, when the product's is another: approximate.
    converted_price: Money | None = None
    # "preorder", "out_of_stock" or "not_sold_here" (listed, but its seller does not sell it here now);
    # absent when it can be bought now
    availability: str | None = None
    image: str | None = None  # the first of the seller's images
    item_id: str | None = None  # the seller's own id of the product
    url: str | None = None  # the product's page at its seller
    # The variants of the product (sizes, colours) when it is sold in several: one card stands for them all.
    variants: list[VariantOption] = []


class CheckoutStarted(Struct):
    checkout_url: str
    order_id: UUID
    total: Money


class ToolResult(Struct, kw_only=True):
    """One executed call: the JSON the model sees (`data`), and what the shopper's screen is given."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    data: dict[str, Any]
    products: list[ProductCard] = []
    search_id: UUID | None = None
    cart: CartView | None = None
    checkouts: list[CheckoutStarted] = []  # one payment page per currency of the cart
