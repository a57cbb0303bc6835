"""The cards a shopper's screen gets carry the search that showed each at its position, so that a click on
one can be credited to that search; a card shown otherwise (details, a comparison) carries none."""

from __future__ import annotations

import uuid

from market.assistant.agent.toolbox import Session
from market.assistant.agent.tools import ProductCard
from market.assistant.conversations import emit_with_searches, shown_cards


def card(product_id: int, position: int) -> ProductCard:
    return ProductCard(product_id=product_id, title=f"Product {product_id}", position=position)


async def test_streamed_cards_carry_the_search_that_showed_them_and_no_other() -> None:
    earlier, now = uuid.uuid4(), uuid.uuid4()
    session = Session(uuid.uuid4(), None, {7: earlier})  # product 7 came from an earlier turn's search
    emitted: list[tuple[str, object]] = []

    async def emit(event: str, payload: object) -> None:
        emitted.append((event, payload))

    emitting = emit_with_searches(emit, session)
    session.search_ids |= {3: now, 7: now}  # the toolbox notes a search's products before emitting them
    await emitting("products", [card(3, 1), card(7, 2)])
    await emitting("products", [card(7, 1)])  # details of product 7: no search showed it now
    await emitting("cart", {"item_count": 0})

    (_, found), (_, details), cart = emitted
    assert [(c.product_id, c.position, c.search_id) for c in found] == [(3, 1, now), (7, 2, now)]
    assert [(c.product_id, c.search_id) for c in details] == [(7, None)]
    assert cart == ("cart", {"item_count": 0})


def test_answered_cards_carry_the_search_their_turn_stored() -> None:
    search = uuid.uuid4()

    cards = shown_cards([card(3, 1), card(5, 2)], {3: search})

    assert [(c.product_id, c.position, c.search_id) for c in cards] == [(3, 1, search), (5, 2, None)]
