"""The sweeper: cancels orders whose hold lapsed (and their payment at Stripe), and finishes money moves
that failed the first time (transfers to sellers, refunds and reversals).

Stock does not wait for it: a lapsed hold stops counting at once (see sellers.inventory). The app runs
`run` in the background every AGORA_RESERVATION_SWEEP_SECONDS; tests call `sweep` directly.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import asyncpg
import msgspec

from market.core.leadership import Leadership
from market.orders import lifecycle, refund_store, settlement, store
from market.orders.lifecycle import AfterCommit
from payments.gateway import StripeGateway

log = logging.getLogger(__name__)
BATCH = 200


class SweepReport(msgspec.Struct, kw_only=True):
    canceled: int = 0
    transfers_retried: int = 0
    refunds_retried: int = 0


async def sweep(pool: asyncpg.Pool, gateway: StripeGateway) -> SweepReport:
    report = SweepReport()
    async with pool.acquire() as conn:
        lapsed = await store.lapsed_order_ids(conn, BATCH)
    for order_id in lapsed:
        if await _cancel_lapsed(pool, gateway, order_id):
            report.canceled += 1
    async with pool.acquire() as conn:
        owing = await store.orders_missing_transfers(conn, BATCH)
        unfinished = await refund_store.unfinished_refund_ids(conn, BATCH)
    for order_id in owing:
        report.transfers_retried += 1
        await settlement.make_transfers(pool, gateway, order_id)
    for refund_id in unfinished:
        report.refunds_retried += 1
        await settlement.execute_refund(pool, gateway, refund_id)
    return report


async def run(
    pool: asyncpg.Pool, gateway: StripeGateway, every_seconds: float, leadership: Leadership | None = None
) -> None:
    """Sweep forever; a failed sweep is logged and the next one tries again. Of several worker processes,
    only the leader sweeps: the sweep is the service's work, done once."""
    while True:
        await asyncio.sleep(every_seconds)
        if leadership is not None and not leadership.held:
            continue
        try:
            report = await sweep(pool, gateway)
        except Exception:  # the loop must outlive any one failure, or lapsed holds pile up unnoticed
            log.exception("sweep failed, trying again in %ss", every_seconds)
            continue
        if report.canceled or report.transfers_retried or report.refunds_retried:
            log.info("swept: %s", msgspec.structs.asdict(report))


async def _cancel_lapsed(pool: asyncpg.Pool, gateway: StripeGateway, order_id: UUID) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        order = await store.get_order(conn, order_id, for_update=True)
        # Checked again under the lock: a payment may have landed since the list was read.
        if order is None or order["status"] != "pending" or not order["hold_lapsed"]:
            return False
        await lifecycle.cancel(conn, order_id, "reservation_lapsed")
    # Closed at Stripe too, so the shopper cannot pay for stock that is gone; a payment that beats this
    # is refunded or honoured by lifecycle.mark_paid.
    after = AfterCommit()
    if order["checkout_session_id"]:
        after.expire_sessions.append(order["checkout_session_id"])
    elif order["payment_intent_id"]:
        after.cancel_intents.append(order["payment_intent_id"])
    await settlement.carry_out(pool, gateway, after)
    return True
