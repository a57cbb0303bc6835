"""Grounding: a reply states only what this conversation's tool results say; links go only to Agora's pages
and the checkout page Stripe gave; the templated reply stands in when too little is left."""

from __future__ import annotations

import pytest

from market.assistant.agent import replies
from market.assistant.agent.grounding import Facts, ground

OWN = "http://127.0.0.1:8000"
CHECKOUT = "https://checkout.stripe.test/c/pay/cs_test_123"
RESULTS = [
    {
        "query": "running shoes",
        "products": [
            {
                "product_id": 11,
                "position": 1,
                "title": "Velocity 3 Road Running Shoe",
                "brand": "Stridewell",
                "category": "Shoes > Running",
                "price": replies.money_json(12999, "USD"),
                "list_price": replies.money_json(14999, "USD"),
                "discount_percent": 13,
                "color": "royal blue",
            },
            {
                "product_id": 12,
                "position": 2,
                "title": "Budget Runner 50% OFF TODAY ONLY http://evil.example/pay",
                "brand": "Shadyco",
                "price": replies.money_json(5999, "USD"),
            },
        ],
    },
    {
        "product": {
            "product_id": 13,
            "title": "Ramen Bowl",
            "price": replies.money_json(1200, "JPY"),
            "available": 7,
        }
    },
    {"order_id": "o-1", "total": replies.money_json(12999, "USD"), "checkout_url": CHECKOUT},
]
FACTS = Facts.from_results(RESULTS)


def grounded(text: str):
    return ground(text, FACTS, own_url=OWN, fallback="TEMPLATE")


@pytest.mark.parametrize(
    "text",
    [
        "The Velocity 3 Road Running Shoe costs $129.99.",
        "It was $149.99, so 13% off.",
        "Total: USD 129.99. Pay here: " + CHECKOUT,
        "The Ramen Bowl is ¥1,200 and 7 are available.",
        "Stridewell makes the Velocity 3 in royal blue.",
        "Your order page: " + OWN + "/checkout/success?order_id=o-1",
    ],
)
def test_what_the_tools_said_passes_untouched(text: str) -> None:
    result = grounded(text)
    assert (result.text, result.removed, result.replaced) == (text, (), False)


def test_an_invented_price_is_removed_with_its_sentence() -> None:
    result = grounded("I found the Velocity 3 Road Running Shoe for $129.99. Today it is only $99!")
    assert result.text == "I found the Velocity 3 Road Running Shoe for $129.99."
    assert [(r.kind, r.value) for r in result.removed] == [("price", "$99")]


@pytest.mark.parametrize(
    "claim",
    ["129.99 euros", "€129.99", "129 dollars", "USD 130", "129,99 €", "¥1,201"],
)
def test_a_price_in_another_amount_or_currency_is_not_supported(claim: str) -> None:
    result = grounded(f"The Velocity 3 Road Running Shoe is $129.99. Elsewhere it is {claim}. Enjoy!")
    assert claim not in result.text and result.removed[0].kind == "price"


def test_a_sentence_with_a_foreign_link_is_dropped() -> None:
    result = grounded(
        f"Pay on {CHECKOUT} now. Or pay at http://evil.example/pay instead. See www.deals.example today. "
        "The shoe is $129.99. It is blue."
    )
    assert result.text == f"Pay on {CHECKOUT} now. The shoe is $129.99. It is blue."
    assert {r.value for r in result.removed if r.kind == "url"} == {
        "http://evil.example/pay",
        "www.deals.example",
    }
    assert grounded(f"See {OWN}.evil.example/x for more. The shoe is $129.99. Enjoy.").text == (
        "The shoe is $129.99. Enjoy."
    )


def test_a_title_is_quoted_data_but_the_link_in_it_is_still_cut() -> None:
    result = grounded("2. Budget Runner 50% OFF TODAY ONLY http://evil.example/pay — $59.99")
    assert result.text == "2. Budget Runner 50% OFF TODAY ONLY — $59.99"
    assert [r.kind for r in result.removed] == ["url"]


def test_the_models_own_discounts_promotions_and_stock_figures_are_removed() -> None:
    text = (
        "The Velocity 3 Road Running Shoe is $129.99. It is 50% off today only. Hurry, only 2 left! "
        "It comes in royal blue. Stridewell makes it."
    )
    result = grounded(text)
    assert (
        result.text
        == "The Velocity 3 Road Running Shoe is $129.99. It comes in royal blue. Stridewell makes it."
    )
    assert {r.kind for r in result.removed} == {"percent", "promotion", "stock"}


def test_an_invented_product_name_or_id_is_removed() -> None:
    result = grounded(
        "The Velocity 3 Road Running Shoe is $129.99. You could also try the Zephyr Max Pro. "
        "Or product 999. Stridewell makes great shoes."
    )
    assert "Zephyr" not in result.text and "999" not in result.text
    assert {(r.kind, r.value) for r in result.removed} == {
        ("name", "Zephyr Max Pro"),
        ("product", "product 999"),
    }


def test_when_half_the_reply_is_unsupported_the_template_replaces_it() -> None:
    result = grounded("The Zephyr Max Pro is $19.99. It ships free to https://evil.example tomorrow.")
    assert result.replaced and result.text == "TEMPLATE"
    assert grounded("").text == "TEMPLATE"


def test_facts_come_from_every_kind_of_tool_result() -> None:
    cart = {
        "cart": {
            "item_count": 3,
            "lines": [
                {
                    "title": "Wired Studio Headphones",
                    "quantity": 3,
                    "line_total": replies.money_json(23997, "USD"),
                }
            ],
            "totals": [replies.money_json(23997, "USD")],
        }
    }
    facts = Facts.from_results([cart])
    assert (23997, "USD") in facts.prices and 3 in facts.figures and "Wired Studio Headphones" in facts.names
    assert (
        ground("Your cart: 3 × Wired Studio Headphones, $239.97.", facts, own_url=OWN, fallback="T").removed
        == ()
    )


def test_templated_replies_pass_their_own_grounding() -> None:
    text = replies.compose([("search_products", RESULTS[0]), ("product_details", RESULTS[1])])
    result = grounded(text)
    assert [r.kind for r in result.removed] == ["url"]  # only the link inside the hostile title
    assert not result.replaced and "$129.99, was $149.99 (13% off)" in result.text


def test_what_the_shopper_turned_down_may_be_repeated_in_the_reply() -> None:
    search = {**RESULTS[0], "filters": {"category": "Shoes > Running", "exclude_brands": ["Harbor Lane"]}}
    text = replies.compose([("search_products", search)])
    assert "not Harbor Lane" in text.splitlines()[0]
    result = ground(text, Facts.from_results([search]), own_url=OWN, fallback="TEMPLATE")
    assert result.text.splitlines()[0] == text.splitlines()[0]
