"""`agora eval assistant`'s metrics on hand-made turn records, and the shipped dialogue set's shape."""

from __future__ import annotations

from types import SimpleNamespace

from market.app.assistant_eval import (
    action_accuracy,
    hallucinations,
    percentile,
    slot_accuracy,
    summarize,
    task_success,
)
from market.assistant import dialogues

NEED = {"category": "Outdoor > Camping > Tents", "budget_max": 30000, "currency": "USD", "color": "red"}
CATALOG = {1: (19999, "USD"), 2: (45000, "USD")}


def turn(**fields):
    return {
        "dialogue": "d001",
        "kind": "search",
        "expected_actions": ["search"],
        "action": "search",
        "expected_slots": {},
        "slots": {},
        "expected_reference": None,
        "references": [],
        "latency_ms": 10.0,
        "hallucinations": [],
    } | fields


def test_action_and_slot_accuracy() -> None:
    expected = {"category": NEED["category"], "budget_max": 30000, "currency": "USD", "colors": ["red"]}
    turns = [
        turn(
            expected_slots=expected,
            slots={"category": NEED["category"], "budget_max": 30000, "colors": ["red"]},
        ),
        turn(action="refine", expected_slots=expected, slots={"category": "Outdoor", "budget_max": 30000}),
        turn(
            kind="add",
            expected_actions=["add_to_cart"],
            action="add_to_cart",
            expected_reference=7,
            references=[7],
        ),
        turn(
            kind="add",
            expected_actions=["add_to_cart"],
            action="compare",
            expected_reference=7,
            references=[8],
        ),
    ]

    assert action_accuracy(turns) == 0.5
    slots = slot_accuracy(turns)
    assert slots["category"] == 0.5 and slots["budget"] == 1.0 and slots["attributes"] == 0.5
    assert slots["reference"] == 0.5
    assert slots["overall"] == 5 / 8


def test_task_success_needs_a_product_meeting_the_hidden_need() -> None:
    def product(category="Outdoor > Camping > Tents", amount=25000, currency="USD", color="red"):
        return SimpleNamespace(
            category=category, price_amount=amount, currency=currency, attributes={"color": color}
        )

    assert task_success(NEED, [product(amount=40000), product()])
    assert not task_success(NEED, [product(amount=30001), product(color="blue"), product(currency="EUR")])
    assert not task_success(NEED, [product(category="Outdoor > Camping"), None])
    assert task_success(NEED | {"category": "Outdoor"}, [product()])


def test_hallucinations_count_invented_products_and_prices() -> None:
    shown = {
        "products": [
            {"product_id": 1, "title": "Tent", "position": 1, "price": {"amount": 19999, "currency": "USD"}}
        ]
    }
    clean = hallucinations(
        CATALOG, reply="The Tent is $199.99, under your $300.", shown=shown, said=["tents under $300"]
    )
    assert clean == []

    planted = hallucinations(
        CATALOG,
        reply="The Tent is $149.99 today.",  # a price no tool result gave
        shown={
            "products": [
                {
                    "product_id": 1,
                    "price": {"amount": 19999, "currency": "USD"},
                    "position": 1,
                    "title": "Tent",
                },
                {
                    "product_id": 2,
                    "price": {"amount": 40000, "currency": "USD"},
                    "position": 2,
                    "title": "Big",
                },
                {
                    "product_id": 99,
                    "price": {"amount": 100, "currency": "USD"},
                    "position": 3,
                    "title": "Ghost",
                },
            ]
        },
    )
    assert len(planted) == 3  # $149.99 in the reply, product 2's price, product 99
    # A price quoted from an earlier turn's tool result is grounded.
    facts = [
        {"products": [{"product_id": 2, "price": {"amount": 45000, "currency": "USD", "text": "$450.00"}}]}
    ]
    assert hallucinations(CATALOG, reply="It was $450.00.", shown={}, facts=facts) == []


def test_summary_and_percentiles() -> None:
    assert percentile([10, 20, 30, 40, 50], 0.5) == 30
    assert percentile([], 0.5) is None
    summary = summarize(
        [turn(latency_ms=5.0, hallucinations=["x"]), turn(latency_ms=15.0)], [True, False], "local"
    )
    assert summary["task_success"] == 0.5 and summary["hallucinations"] == 1
    assert summary["latency_ms"]["p50"] == 10.0


def test_the_shipped_dialogues_are_the_generator_s_and_each_need_is_met() -> None:
    shipped = dialogues.load()
    assert shipped == dialogues.generate()
    assert len(shipped) == 60
    for dialogue in shipped:
        assert dialogue["meeting"] >= 1
        assert "{ordinal}" in dialogue["turns"]["add"]["text"]
        assert dialogue["turns"]["search"]["slots"]["budget_max"] == dialogue["need"]["budget_max"]
