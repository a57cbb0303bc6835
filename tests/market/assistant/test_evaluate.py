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
    assert not task_success(
        NEED, [product(amount=30001), product(color="blue"), product(currency="NZD")]
    )  # no NZD rate
    # a price in another currency counts at the demo's rates (1 USD = 0.92 EUR): €250 is about $271.74
    assert task_success(NEED, [product(amount=25000, currency="EUR")])
    assert not task_success(NEED, [product(amount=28000, currency="EUR")])  # about $304.35
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


# --- the shopper sets: one hand-written dialogue through the runner, the app played by a stub ---------------


class _Answer:
    def __init__(self, body, status_code: int = 200) -> None:
        self.body, self.status_code, self.text = body, status_code, str(body)

    def json(self):
        return self.body

    def raise_for_status(self) -> None:
        assert self.status_code < 400


class _ScriptedApp:
    """The assistant's HTTP API as `shopper_eval` calls it, answering from a script (one reply per turn)."""

    def __init__(self, replies: list[dict]) -> None:
        self.replies, self.cart, self.turns = replies, {}, 0

    async def post(self, path: str, json: dict):
        if path == "/v1/conversations":
            return _Answer({"conversation_id": "c1"}, 201)
        answer = self.replies[self.turns]
        self.turns += 1
        self.cart.update(answer.pop("adds", {}))
        return _Answer(answer | {"turn": self.turns})

    async def get(self, path: str):
        if path == "/v1/conversations/c1":
            return _Answer({"cart_id": "k1" if self.cart else None, "turns": [{"tool_calls": []}]})
        lines = [{"product_id": pid, "quantity": qty, "unit_price": {"amount": 19999, "currency": "USD"}}
                 for pid, qty in self.cart.items()]  # fmt: skip
        return _Answer({"sellers": [{"lines": lines}]})


async def test_a_shopper_dialogue_is_checked_turn_by_turn() -> None:
    from market.app.dialogue_checks import ProductFacts
    from market.app.shopper_eval import format_table, run_shopper_set

    catalog = {
        1: ProductFacts(1, "Ridgeline Tent", "Trailhead", "Outdoor > Camping > Tents", 19999, "USD", {}),
        2: ProductFacts(2, "Basecamp Tent", "Summit", "Outdoor > Camping > Tents", 45000, "USD", {}),
    }
    cards = [{"product_id": pid, "position": pid, "title": catalog[pid].title,
              "price": {"amount": catalog[pid].price_amount, "currency": "USD"}} for pid in (1, 2)]  # fmt: skip
    dialogue = {
        "id": "cart-01",
        "class": "cart_checkout",
        "turns": [
            {"say": "tents under $300", "expect": [{"shows": {"category": "Outdoor", "min": 2}}]},
            {"say": "add the first", "expect": [{"cart_has": {"product": 1}}, {"cart_count": 1}]},
            {"say": "checkout", "expect": [{"checkout_not_started": True}]},
        ],
    }
    replies = [
        {"reply": "Two tents: the Ridgeline at $199.99 and the Basecamp at $450.00.", "products": cards},
        {"reply": "Added the Ridgeline Tent.", "products": [], "adds": {1: 1}},
        {"reply": "Checkout started.", "products": [], "checkout": {"checkout_url": "x", "order_id": "o"}},
    ]
    summary, failures = await run_shopper_set(_ScriptedApp(replies), "shoppers", [dialogue], catalog)

    assert summary["dialogues"] == 1 and summary["turns"] == 3 and summary["task_success"] == 0.0
    assert summary["checks"]["cart_has"] == {"run": 1, "failed": 0}
    assert summary["checks"]["checkout_not_started"] == {"run": 1, "failed": 1}
    assert summary["hallucinations"] == 0 and summary["by_class"]["cart_checkout"]["succeeded"] == 0
    (failure,) = failures
    assert (
        failure["turn"] == 3 and failure["check"] == "checkout_not_started" and failure["set"] == "shoppers"
    )
    assert failure["say"] == "checkout" and failure["cart"] == {"1": 1}
    assert "cart_checkout" in format_table(summary)


def test_shopper_sets_load_round_robin_over_their_classes() -> None:
    from market.app.shopper_eval import load_set

    shoppers, holdout, fresh = load_set("shoppers"), load_set("holdout"), load_set("fresh")
    later = [load_set(f"fresh{n}") for n in range(2, 22)]
    assert [len(found) for found in (shoppers, holdout, fresh, *later)] == [168] + [60] * 22
    assert len({dialogue["class"] for dialogue in shoppers[:12]}) == 12
    everyone = shoppers + holdout + fresh + [dialogue for found in later for dialogue in found]
    assert len({dialogue["id"] for dialogue in everyone}) == 1488
