"""A small market history written by hand with plain SQL, so that every figure can be worked out on paper.

Three sellers, four products, four paid orders (one with two sellers, one in EUR), one partial refund,
searches over three days in two ISO weeks, an assistant conversation, and two model promotions.
All times are UTC. Figures over PERIOD = [2024-05-06, 2024-05-14):

Money (ledger)
  O1 05-06 10:00 USD  A: A1 x1 10_000, fee 1_000                      charge 10_000
  O2 05-06 14:00 USD  A: A2 x2 10_000, fee 1_000; C: C1 x1 3_001, fee 450   charge 13_001
     refund R1 05-07 09:00: one A2, 5_000 back, fee refund 500, transfer reversal 4_500
  O3 05-07 11:00 EUR  B: B1 x1 20_000, fee 2_000                      charge 20_000
  O4 05-13 15:00 USD  A: A2 x1  5_000, fee   500                      charge  5_000
  O5 05-20 USD (outside PERIOD) A1 x1 10_000;  O6 pending, never charged (no ledger rows)

  USD: gmv 10_000 + 13_001 + 5_000 = 28_001; refunded 5_000; revenue 1_000 + 1_450 + 500 - 500 = 2_450;
       orders 3; AOV 28_001 / 3 = 9_333.67 -> 9_334; take rate 2_450 / 23_001; refund rate 5_000 / 28_001
  EUR: gmv 20_000; refunded 0; revenue 2_000; orders 1; AOV 20_000; take rate 0.1; refund rate 0.0

Events (first pages unless said; models are reranker / embedding)
  05-06 s1   S1 "trail shoes" [A1@1, A2@2] r1/e1; S1 page 2 [A2@3]; click A1@1; cart A1; checkout A1; buy A1
  05-06 s2   S2 "headphones" [B1@1, A2@2] r1/e1; click A2@2 then B1@1; cart A2; checkout A2, C1; buy A2, C1
  05-06 s3   S3 "zzz unobtainium" [] r1/e1
  05-06 -    S4 "kitchen" [C1@1] r1/e1, no session (its own session); click C1@1
  05-07 s4   S5 "headphones" [B1@1] r2/e1; click B1@1; cart B1; checkout B1; buy B1
  05-07 s5   S6 "trail shoes" [A1@1, A2@2] r2/e1; cart A1 without a click
  05-13 conv S7 "running shoes" [A1@1, A2@2] r2/e2 (assistant conversation X); click A2@2; cart; checkout; buy
  05-13      conversation Y opened, nothing searched
  05-20 s9   S8 "trail shoes" [A1@1] r2/e2 (outside PERIOD)

Model versions: e1 promoted 04-01, r1 05-01, r2 05-07 00:00, e2 05-13 00:00, r3 a refused candidate
(all stored as retired, so that an app started on this database keeps serving its own seed models).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest

from market.metrics.schemas import Period
from sellers.accounts import hash_api_key

PERIOD = Period(since=datetime(2024, 5, 6, tzinfo=UTC), until=datetime(2024, 5, 14, tzinfo=UTC))
KEY_A, KEY_B, KEY_C = "agora_sk_known-history-a", "agora_sk_known-history-b", "agora_sk_known-history-c"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in May 2024, UTC."""
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


@dataclass
class KnownHistory:
    period: Period
    sellers: dict[str, UUID]  # "A", "B", "C"
    keys: dict[str, str]  # seller letter -> API key
    products: dict[str, int]  # "A1", "A2", "B1", "C1"
    orders: dict[str, UUID]  # "O1" ... "O6"
    searches: dict[str, UUID]  # "S1" ... "S8"
    conversations: dict[str, UUID] = field(default_factory=dict)  # "X", "Y"

    def headers(self, seller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[seller]}"}


@pytest.fixture
async def known_history(database_url: str) -> KnownHistory:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            return await _write(conn)
    finally:
        await conn.close()


async def _write(conn: asyncpg.Connection) -> KnownHistory:
    sellers, keys = {}, {"A": KEY_A, "B": KEY_B, "C": KEY_C}
    for letter, name, currency in (
        ("A", "Trailhead Outfitters", "USD"),
        ("B", "Nordlicht Audio", "EUR"),
        ("C", "Harbor Goods", "USD"),
    ):
        sellers[letter] = await conn.fetchval(
            "INSERT INTO sellers (name, email, country, currency) VALUES ($1, $2, 'US', $3) RETURNING id",
            name,
            f"{letter.lower()}@known.example",
            currency,
        )
        await conn.execute(
            "INSERT INTO seller_api_keys (seller_id, key_hash, prefix) VALUES ($1, $2, $3)",
            sellers[letter],
            hash_api_key(keys[letter]),
            keys[letter][:13],
        )

    products = {}
    for code, seller, category, currency, price in (
        ("A1", "A", "Shoes > Running", "USD", 10_000),
        ("A2", "A", "Electronics > Audio", "USD", 5_000),
        ("B1", "B", "Electronics > Audio > Headphones", "EUR", 20_000),
        ("C1", "C", "Home > Kitchen", "USD", 3_001),
    ):
        products[code] = await conn.fetchval(
            """INSERT INTO products (seller_id, external_id, title, category, currency, price_amount,
                                     availability, inventory_quantity)
               VALUES ($1, $2, $3, $4, $5, $6, 'in_stock', 10) RETURNING id""",
            sellers[seller],
            code,
            f"Product {code}",
            category,
            currency,
            price,
        )

    searches = {f"S{n}": uuid.uuid4() for n in range(1, 9)}
    orders = {}
    # (order, currency, paid at or None, [(seller, product, qty, unit, fee, search)])
    for code, currency, paid_at, lines in (
        ("O1", "USD", at(6, 10), [("A", "A1", 1, 10_000, 1_000, "S1")]),
        ("O2", "USD", at(6, 14), [("A", "A2", 2, 5_000, 1_000, "S2"), ("C", "C1", 1, 3_001, 450, None)]),
        ("O3", "EUR", at(7, 11), [("B", "B1", 1, 20_000, 2_000, "S5")]),
        ("O4", "USD", at(13, 15), [("A", "A2", 1, 5_000, 500, "S7")]),
        ("O5", "USD", at(20, 12), [("A", "A1", 1, 10_000, 1_000, "S8")]),
        ("O6", "USD", None, [("A", "A1", 1, 10_000, 1_000, None)]),
    ):
        orders[code] = await _order(conn, sellers, products, searches, code, currency, paid_at, lines)

    # R1: one of O2's two A2 units goes back; the platform gives up its fee on it.
    a2_line = await conn.fetchval(
        "SELECT id FROM order_lines WHERE order_id = $1 AND product_id = $2", orders["O2"], products["A2"]
    )
    refund_lines = [
        {
            "line_id": a2_line,
            "seller_id": str(sellers["A"]),
            "quantity": 1,
            "amount": 5_000,
            "platform_fee_amount": 500,
            "transfer_reversal_amount": 4_500,
        }
    ]
    refund_id = await conn.fetchval(
        """INSERT INTO refunds (order_id, amount, platform_fee_amount, reason, requested_by, lines,
                                stripe_refund_id, created_at)
           VALUES ($1, 5000, 500, 'damaged', 'operator', $2::jsonb, 're_known_1', $3) RETURNING id""",
        orders["O2"],
        json.dumps(refund_lines),
        at(7, 9),
    )
    await conn.execute(
        "UPDATE order_lines SET refunded_quantity = 1, refunded_amount = 5000 WHERE id = $1", a2_line
    )
    await conn.execute(
        "UPDATE orders SET status = 'partially_refunded', refunded_amount = 5000 WHERE id = $1", orders["O2"]
    )
    for kind, amount, seller, object_id in (
        ("refund", 5_000, None, "re_known_1"),
        ("platform_fee_refund", 500, sellers["A"], f"refund:{refund_id}"),
        ("transfer_reversal", 4_500, sellers["A"], "trr_known_1"),
    ):
        await _ledger(conn, orders["O2"], kind, amount, "USD", seller, object_id, at(7, 9), refund_id)

    conversations = {"X": uuid.uuid4(), "Y": uuid.uuid4()}
    await conn.execute(
        "INSERT INTO conversations (id, created_at) VALUES ($1, $2), ($3, $4)",
        conversations["X"],
        at(13, 10),
        conversations["Y"],
        at(13, 16),
    )
    await _events(conn, products, searches, orders, str(conversations["X"]))
    await _models(conn)
    return KnownHistory(PERIOD, sellers, keys, products, orders, searches, conversations)


async def _order(conn, sellers, products, searches, code, currency, paid_at, lines) -> UUID:
    total = sum(qty * unit for _, _, qty, unit, _, _ in lines)
    fees = sum(fee for *_, fee, _ in lines)
    order_id = await conn.fetchval(
        """INSERT INTO orders (status, payment_flow, currency, total_amount, platform_fee_amount,
                               transfer_group, reserved_until, created_at, paid_at, charge_id)
           VALUES ($1, 'checkout_session', $2, $3, $4, $5, $6, $6, $7, $8) RETURNING id""",
        "paid" if paid_at else "pending",
        currency,
        total,
        fees,
        f"group_{code}",
        paid_at or at(25, 0),
        paid_at,
        f"ch_known_{code}" if paid_at else None,
    )
    if paid_at:
        await _ledger(conn, order_id, "charge", total, currency, None, f"ch_known_{code}", paid_at)
    for seller in dict.fromkeys(letter for letter, *_ in lines):
        mine = [line for line in lines if line[0] == seller]
        amount = sum(qty * unit for _, _, qty, unit, _, _ in mine)
        fee = sum(fee for *_, fee, _ in mine)
        seller_order = await conn.fetchval(
            """INSERT INTO seller_orders (order_id, seller_id, status, amount, platform_fee_amount)
               VALUES ($1, $2, $3, $4, $5) RETURNING id""",
            order_id,
            sellers[seller],
            "paid" if paid_at else "pending",
            amount,
            fee,
        )
        for _, product, qty, unit, line_fee, search in mine:
            await conn.execute(
                """INSERT INTO order_lines (order_id, seller_order_id, product_id, title, quantity, unit_amount,
                                            line_amount, take_rate_bps, platform_fee_amount, search_id)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 1000, $8, $9)""",
                order_id,
                seller_order,
                products[product],
                f"Product {product}",
                qty,
                unit,
                qty * unit,
                line_fee,
                searches[search] if search else None,
            )
        if paid_at:
            await _ledger(
                conn, order_id, "platform_fee", fee, currency, sellers[seller], f"ch_known_{code}", paid_at
            )
            await _ledger(
                conn,
                order_id,
                "transfer",
                amount - fee,
                currency,
                sellers[seller],
                f"tr_known_{code}{seller}",
                paid_at,
            )
    return order_id


async def _ledger(
    conn, order_id, kind, amount, currency, seller_id, object_id, created_at, refund_id=None
) -> None:
    await conn.execute(
        """INSERT INTO ledger_entries (order_id, seller_id, refund_id, kind, amount, currency, stripe_object_id,
                                       created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        order_id,
        seller_id,
        refund_id,
        kind,
        amount,
        currency,
        object_id,
        created_at,
    )


async def _events(conn, products, searches, orders, conversation_x: str) -> None:
    p, s = products, searches

    def shown(query, pairs, reranker, embedding, cursor=None):
        return {
            "query": query,
            "filters": {},
            "results": [{"product_id": p[code], "position": pos, "score": 1.0 / pos} for code, pos in pairs],
            "model_versions": {"reranker": reranker, "embedding": embedding},
            "cursor": cursor,
        }

    rows = [
        # (type, time, session, search, product, position, payload)
        (
            "impression",
            at(6, 9),
            "s1",
            "S1",
            None,
            None,
            shown("trail shoes", [("A1", 1), ("A2", 2)], "r1", "e1"),
        ),
        (
            "impression",
            at(6, 9, 1),
            "s1",
            "S1",
            None,
            None,
            shown("trail shoes", [("A2", 3)], "r1", "e1", "c2"),
        ),
        ("click", at(6, 9, 2), "s1", "S1", "A1", 1, {}),
        ("add_to_cart", at(6, 9, 3), "s1", "S1", "A1", None, {}),
        ("checkout_started", at(6, 9, 4), "s1", None, "A1", None, {}),
        ("purchase", at(6, 10), "s1", "S1", "A1", None, {"order_id": str(orders["O1"])}),
        (
            "impression",
            at(6, 11),
            "s2",
            "S2",
            None,
            None,
            shown("headphones", [("B1", 1), ("A2", 2)], "r1", "e1"),
        ),
        ("click", at(6, 11, 1), "s2", "S2", "A2", 2, {}),
        ("click", at(6, 11, 2), "s2", "S2", "B1", 1, {}),
        ("add_to_cart", at(6, 11, 3), "s2", "S2", "A2", None, {}),
        ("checkout_started", at(6, 11, 4), "s2", None, "A2", None, {}),
        ("checkout_started", at(6, 11, 4), "s2", None, "C1", None, {}),
        ("purchase", at(6, 14), "s2", "S2", "A2", None, {"order_id": str(orders["O2"])}),
        ("purchase", at(6, 14), "s2", None, "C1", None, {"order_id": str(orders["O2"])}),
        ("impression", at(6, 12), "s3", "S3", None, None, shown("zzz unobtainium", [], "r1", "e1")),
        ("impression", at(6, 13), None, "S4", None, None, shown("kitchen", [("C1", 1)], "r1", "e1")),
        ("click", at(6, 13, 1), None, "S4", "C1", 1, {}),
        ("impression", at(7, 10), "s4", "S5", None, None, shown("headphones", [("B1", 1)], "r2", "e1")),
        ("click", at(7, 10, 1), "s4", "S5", "B1", 1, {}),
        ("add_to_cart", at(7, 10, 2), "s4", "S5", "B1", None, {}),
        ("checkout_started", at(7, 10, 3), "s4", None, "B1", None, {}),
        ("purchase", at(7, 11), "s4", "S5", "B1", None, {"order_id": str(orders["O3"])}),
        (
            "impression",
            at(7, 12),
            "s5",
            "S6",
            None,
            None,
            shown("trail shoes", [("A1", 1), ("A2", 2)], "r2", "e1"),
        ),
        ("add_to_cart", at(7, 12, 5), "s5", "S6", "A1", None, {}),
        (
            "impression",
            at(13, 11),
            "X",
            "S7",
            None,
            None,
            shown("running shoes", [("A1", 1), ("A2", 2)], "r2", "e2"),
        ),
        ("click", at(13, 11, 1), "X", "S7", "A2", 2, {}),
        ("add_to_cart", at(13, 11, 2), "X", "S7", "A2", None, {}),
        ("checkout_started", at(13, 11, 3), "X", None, "A2", None, {}),
        ("purchase", at(13, 15), "X", "S7", "A2", None, {"order_id": str(orders["O4"])}),
        ("impression", at(20, 9), "s9", "S8", None, None, shown("trail shoes", [("A1", 1)], "r2", "e2")),
        ("purchase", at(20, 12), "s9", "S8", "A1", None, {"order_id": str(orders["O5"])}),
    ]
    await conn.executemany(
        """INSERT INTO events (event_id, type, occurred_at, received_at, session_id, search_id, product_id,
                               position, payload)
           VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8::jsonb)""",
        [
            (
                uuid.uuid4(),
                kind,
                when,
                conversation_x if session == "X" else session,
                s[search] if search else None,
                p[product] if product else None,
                position,
                json.dumps(payload),
            )
            for kind, when, session, search, product, position, payload in rows
        ],
    )


async def _models(conn: asyncpg.Connection) -> None:
    # All marked retired: the figures read only `promoted_at` and the impressions, and the app under test
    # (the `client` fixture) keeps serving its own seed models, whichever fixture starts first.
    await conn.executemany(
        """INSERT INTO model_versions (version, kind, path, status, created_at, promoted_at)
           VALUES ($1, $2, $1, $3, $4, $5)""",
        [
            (
                "e1",
                "embedding",
                "retired",
                datetime(2024, 4, 1, tzinfo=UTC),
                datetime(2024, 4, 1, tzinfo=UTC),
            ),
            ("r1", "reranker", "retired", at(1, 0), at(1, 0)),
            ("r2", "reranker", "retired", at(6, 20), at(7, 0)),
            ("e2", "embedding", "retired", at(12, 20), at(13, 0)),
            ("r3", "reranker", "refused", at(12, 0), None),
        ],
    )
