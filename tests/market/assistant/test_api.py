"""The assistant's HTTP API: conversations start, answer in JSON or as server-sent events, read back with
every turn; unknown conversations are 404 and bad messages 400; each turn is stored with its intent event,
and the searches it ran are logged as impressions of the conversation's session.

The production wiring is used here: the shipped action classifier (sharing the engine's embedder) and the
real deterministic layer; only the model is scripted.
"""

from __future__ import annotations

import asyncio
import json
import uuid

from tests.market.assistant.scripted import (
    FixedClassifier,
    call,
    converse,
    eventually,
    local,
    model,
    say,
    use,
)


def events_of(body: str) -> list[tuple[str, dict]]:
    """(event, data) of each server-sent event in `body`; data is JSON."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        name = next(line[len("event: ") :] for line in lines if line.startswith("event: "))
        data = "\n".join(line[len("data: ") :] for line in lines if line.startswith("data: "))
        found.append((name, json.loads(data)))
    return found


async def test_a_conversation_starts_and_is_read_back_empty(shop) -> None:
    started = await shop.post("/v1/conversations", json={"session_id": "shopper-7"})
    assert started.status_code == 201 and set(started.json()) == {"conversation_id"}
    conversation = started.json()["conversation_id"]

    shown = await shop.get(f"/v1/conversations/{conversation}")

    assert shown.status_code == 200
    assert shown.json() | {"created_at": None} == {
        "conversation_id": conversation,
        "session_id": "shopper-7",
        "cart_id": None,
        "created_at": None,
        "turns": [],
    }


async def test_unknown_conversations_and_bad_messages_are_refused(shop) -> None:
    unknown = uuid.uuid4()
    for answer in (
        await shop.get(f"/v1/conversations/{unknown}"),
        await shop.post(f"/v1/conversations/{unknown}/messages", json={"text": "hi"}),
        await shop.post(
            f"/v1/conversations/{unknown}/messages",
            json={"text": "hi"},
            headers={"Accept": "text/event-stream"},
        ),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "conversation_not_found"
    conversation = await converse(shop)
    for body, where in (
        ({"text": ""}, "body.text"),
        ({"text": "x" * 2001}, "body.text"),
        ({}, "body.text"),
        ({"text": "hi", "mood": "happy"}, "body.mood"),
    ):
        answer = await shop.post(f"/v1/conversations/{conversation}/messages", json=body)
        assert answer.status_code == 400 and answer.json()["error"]["where"] == where, answer.text
    assert (await shop.post("/v1/conversations", json={"cart": 1})).status_code == 400


async def test_a_json_answer_with_the_real_classifier_and_what_the_turn_stored(shop, db) -> None:
    use(shop, local())  # the shipped classifier and layer; the model is not needed for a plain search
    conversation = await converse(shop)

    answer = await say(shop, conversation, "show me running shoes under $130")

    assert set(answer) == {"reply", "products", "turn"} and answer["turn"] == 1
    assert {card["product_id"] for card in answer["products"]} == {shop.ids["velocity"], shop.ids["pace"]}
    card = answer["products"][0]
    assert set(card) >= {"product_id", "title", "seller_id", "seller_name", "price", "position", "search_id"}
    (turn,) = (await shop.get(f"/v1/conversations/{conversation}")).json()["turns"]
    assert {(c["product_id"], c["position"], c["search_id"]) for c in answer["products"]} == {
        (shown["product_id"], shown["position"], shown["search_id"]) for shown in turn["products_shown"]
    }
    assert turn["user_text"] == "show me running shoes under $130" and turn["reply"] == answer["reply"]
    assert turn["intent"]["action"] == "search" and turn["intent"]["slots"]["budget_max"] == 13000
    assert [shown["position"] for shown in turn["products_shown"]] == [1, 2]
    assert turn["model"] == "layer" and turn["latency_ms"] >= 0  # recorded, whatever the machine's speed

    intent = await db.fetchrow("SELECT session_id, payload FROM events WHERE type = 'intent'")
    assert intent["session_id"] == conversation
    assert json.loads(intent["payload"]) | {"slots": None} == {
        "conversation_id": conversation,
        "turn": 1,
        "action": "search",
        "slots": None,
        "query": turn["tool_calls"][0]["arguments"]["query"],
    }
    impression = await eventually(
        db, "SELECT session_id, search_id, payload FROM events WHERE type = 'impression'"
    )
    assert impression["session_id"] == conversation
    assert str(impression["search_id"]) == turn["products_shown"][0]["search_id"]
    assert [r["product_id"] for r in json.loads(impression["payload"])["results"]] == [
        c["product_id"] for c in answer["products"]
    ]


async def test_server_sent_events_carry_products_cart_checkout_text_and_done(shop, db) -> None:
    ids = shop.ids
    backend = model(
        call("search_products", query="yoga mat"),
        "I found a yoga mat.",
        call("add_to_cart", product_id=ids["mat"], quantity=1),
        "It is in your cart.",
        call("start_checkout"),
    )
    use(shop, backend)
    conversation = await converse(shop)
    url = f"/v1/conversations/{conversation}/messages"
    stream = {"Accept": "text/event-stream"}

    found = await shop.post(url, json={"text": "I need a yoga mat"}, headers=stream)
    assert found.status_code == 200 and found.headers["content-type"].startswith("text/event-stream")
    events = events_of(found.text)
    assert [name for name, _ in events] == ["products", "text", "done"]
    assert events[0][1]["products"][0]["product_id"] == ids["mat"]
    assert events[1][1] == {"text": "I found a yoga mat."} and events[2][1] == {"turn": 1}

    added = events_of(
        (await shop.post(url, json={"text": "add the first one to my cart"}, headers=stream)).text
    )
    assert added[0][0] == "cart" and added[-1] == ("done", {"turn": 2})
    assert added[0][1]["item_count"] == 1

    paid = events_of((await shop.post(url, json={"text": "yes, check out now"}, headers=stream)).text)
    names = [name for name, _ in paid]
    assert names[0] == "checkout" and names[-1] == "done" and set(names[1:-1]) == {"text"}
    checkout = paid[0][1]
    assert set(checkout) == {"checkout_url", "order_id", "total"}
    text = "".join(data["text"] for name, data in paid if name == "text")
    assert text.endswith(checkout["checkout_url"])
    order = await db.fetchval("SELECT id FROM orders")
    assert str(order) == checkout["order_id"]
    assert checkout["total"]["currency"] == "USD" and checkout["total"]["amount"] > 0

    shown = (await shop.get(f"/v1/conversations/{conversation}")).json()
    assert [turn["turn"] for turn in shown["turns"]] == [1, 2, 3] and shown["cart_id"] is not None


async def test_a_card_put_in_the_conversations_cart_by_id_is_in_the_cart_the_next_turn_reads(
    shop, db
) -> None:
    velocity = shop.ids["velocity"]
    backend = model(
        call("search_products", query="running shoes"),
        "Here are running shoes.",
        call("view_cart"),
        "That is your cart.",
    )
    use(shop, backend)
    conversation = await converse(shop)
    url = f"/v1/conversations/{conversation}/messages"
    assert (await shop.post(f"/v1/conversations/{uuid.uuid4()}/cart")).status_code == 404

    found = events_of(
        (await shop.post(url, json={"text": "running shoes"}, headers={"Accept": "text/event-stream"})).text
    )
    cards = next(data["products"] for name, data in found if name == "products")
    (turn,) = (await shop.get(f"/v1/conversations/{conversation}")).json()["turns"]
    shown = {(s["product_id"], s["position"], s["search_id"]) for s in turn["products_shown"]}
    assert {(c["product_id"], c["position"], c["search_id"]) for c in cards} == shown  # streamed cards too
    wanted = next(card for card in cards if card["product_id"] == velocity)

    cart = await shop.post(f"/v1/conversations/{conversation}/cart")
    assert cart.status_code == 200 and cart.json()["item_count"] == 0
    cart_id = cart.json()["cart_id"]
    assert (await shop.post(f"/v1/conversations/{conversation}/cart")).json()["cart_id"] == cart_id
    put = await shop.put(
        f"/v1/carts/{cart_id}/items/{velocity}", json={"quantity": 1, "search_id": wanted["search_id"]}
    )
    assert put.status_code == 200, put.text
    assert (await shop.get(f"/v1/conversations/{conversation}")).json()["cart_id"] == cart_id

    await say(shop, conversation, "what is in my cart?")

    read = (await shop.get(f"/v1/conversations/{conversation}")).json()["turns"][-1]["tool_calls"]
    assert [call["name"] for call in read] == ["view_cart"]
    assert [(line["product_id"], line["quantity"]) for line in read[0]["result"]["cart"]["lines"]] == [
        (velocity, 1)
    ]
    added = await db.fetchrow(
        "SELECT session_id, search_id, product_id FROM events WHERE type = 'add_to_cart'"
    )
    assert (added["session_id"], str(added["search_id"]), added["product_id"]) == (
        conversation,
        wanted["search_id"],
        velocity,
    )


async def test_messages_sent_at_once_are_answered_one_after_the_other(shop) -> None:
    use(shop, local(), FixedClassifier(["search"] * 3))
    conversation = await converse(shop)

    answers = await asyncio.gather(
        *(say(shop, conversation, text) for text in ("yoga mat", "frying pan", "kettle"))
    )

    assert sorted(answer["turn"] for answer in answers) == [1, 2, 3]
    stored = (await shop.get(f"/v1/conversations/{conversation}")).json()["turns"]
    assert [turn["turn"] for turn in stored] == [1, 2, 3]
