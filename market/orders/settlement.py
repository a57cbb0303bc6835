"""Moving the money at Stripe once the database has decided: transfers to sellers, refunds to shoppers and
the reversals of sellers' transfers; expiring and canceling payments nobody will complete.

Every call carries an idempotency key derived from our ids and every booking is idempotent, so each step
can be retried (by the sweeper, or a second webhook) until it is done, and is done once. A step that fails
is logged and left for the sweeper; the rows say what is still owed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from uuid import UUID

import asyncpg

from market.orders import refund_store, store
from market.orders.lifecycle import PAID_STATES, AfterCommit
from market.orders.parts import seller_parts
from payments import ledger
from payments.gateway import GatewayError, PaymentError, StripeGateway

log = logging.getLogger(__name__)
_FAILURES = (GatewayError, PaymentError)


async def carry_out(pool: asyncpg.Pool, gateway: StripeGateway, after: AfterCommit) -> None:
    """Do what a committed state change left owed at Stripe; what fails is retried by the sweeper."""
    for order_id in sorted(after.transfers_for):
        await make_transfers(pool, gateway, order_id)
    for refund_id in after.refunds:
        await execute_refund(pool, gateway, refund_id)
    for session_id in after.expire_sessions:
        try:
            await gateway.expire_checkout_session(session_id)
        except _FAILURES as exc:
            log.warning("could not expire checkout session %s: %s", session_id, exc)
    for intent_id in after.cancel_intents:
        try:
            await gateway.cancel_payment_intent(intent_id)
        except _FAILURES as exc:
            log.warning("could not cancel payment intent %s: %s", intent_id, exc)


async def make_transfers(pool: asyncpg.Pool, gateway: StripeGateway, order_id: UUID) -> bool:
    """Pay each seller of a paid order its part less the platform's fee; True when none is left owed.

    One transfer per seller order, keyed by its id at Stripe, funded by the order's charge.
    """
    async with pool.acquire() as conn:
        order = await store.get_order(conn, order_id)
        parts = await seller_parts(conn, [order_id])
    if order is None or order["status"] not in PAID_STATES or not order["charge_id"]:
        return False
    done = True
    for part in parts:
        payout = part["amount"] - part["platform_fee_amount"]
        if part["transfer_id"] or payout <= 0:
            continue
        try:
            transfer_id = await gateway.create_transfer(
                amount=payout,
                currency=order["currency"],
                destination=part["stripe_account_id"],
                transfer_group=order["transfer_group"],
                source_transaction=order["charge_id"],
                metadata={"order_id": str(order_id), "seller_order_id": str(part["id"])},
                idempotency_key=f"transfer:{part['id']}",
            )
        except _FAILURES as exc:
            log.warning("order %s: transfer to seller %s failed: %s", order_id, part["seller_id"], exc)
            done = False
            continue
        async with pool.acquire() as conn, conn.transaction():
            await store.set_transfer_id(conn, part["id"], transfer_id)
            await ledger.record_transfer(
                conn,
                order_id=order_id,
                seller_id=part["seller_id"],
                currency=order["currency"],
                amount=payout,
                transfer_id=transfer_id,
            )
    return done


async def execute_refund(pool: asyncpg.Pool, gateway: StripeGateway, refund_id: UUID) -> bool:
    """Carry out a booked refund: the shopper's money back, then each seller's share of it reversed.

    Returns True when everything is done (and booked in the ledger); False leaves the rest for the sweeper.
    """
    async with pool.acquire() as conn:
        refund = await refund_store.get_refund(conn, refund_id)
        order = await store.get_order(conn, refund["order_id"]) if refund else None
    if refund is None or order is None:
        return False
    shares = _seller_shares(refund["lines"])
    if any(reversal for _, reversal in shares.values()):
        # A reversal needs the transfer it reverses: make any still owed (normally none) first.
        await make_transfers(pool, gateway, order["id"])
    if refund["stripe_refund_id"] is None and not await _refund_at_stripe(
        pool, gateway, refund, order, shares
    ):
        return False
    return await _reverse_transfers(pool, gateway, refund, order, shares)


async def _refund_at_stripe(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    refund: asyncpg.Record,
    order: asyncpg.Record,
    shares: dict[UUID, tuple[int, int]],
) -> bool:
    try:
        stripe_refund_id = await gateway.refund(
            payment_intent_id=order["payment_intent_id"],
            amount=refund["amount"],
            metadata={"order_id": str(order["id"]), "refund_id": str(refund["id"])},
            idempotency_key=f"refund:{refund['id']}",
        )
    except _FAILURES as exc:
        log.warning("refund %s of order %s failed at Stripe: %s", refund["id"], order["id"], exc)
        return False
    async with pool.acquire() as conn, conn.transaction():
        await refund_store.set_stripe_refund_id(conn, refund["id"], stripe_refund_id)
        await ledger.record_refund(
            conn,
            order_id=order["id"],
            refund_id=refund["id"],
            currency=order["currency"],
            amount=refund["amount"],
            stripe_refund_id=stripe_refund_id,
        )
        for seller_id, (fee, _) in shares.items():
            if fee:
                await ledger.record_platform_fee_refund(
                    conn,
                    order_id=order["id"],
                    refund_id=refund["id"],
                    seller_id=seller_id,
                    currency=order["currency"],
                    amount=fee,
                )
    return True


async def _reverse_transfers(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    refund: asyncpg.Record,
    order: asyncpg.Record,
    shares: dict[UUID, tuple[int, int]],
) -> bool:
    reversed_already = {UUID(line["seller_id"]) for line in refund["lines"] if line.get("reversal_id")}
    async with pool.acquire() as conn:
        parts = await seller_parts(conn, [order["id"]])
    transfers = {part["seller_id"]: part["transfer_id"] for part in parts}
    done = True
    for seller_id, (_, reversal) in sorted(shares.items()):
        if not reversal or seller_id in reversed_already:
            continue
        transfer_id = transfers.get(seller_id)
        if transfer_id is None:
            log.warning("refund %s: seller %s has no transfer to reverse yet", refund["id"], seller_id)
            done = False
            continue
        try:
            reversal_id = await gateway.reverse_transfer(
                transfer_id=transfer_id,
                amount=reversal,
                metadata={"order_id": str(order["id"]), "refund_id": str(refund["id"])},
                idempotency_key=f"reversal:{refund['id']}:{seller_id}",
            )
        except _FAILURES as exc:
            log.warning("refund %s: reversing seller %s's transfer failed: %s", refund["id"], seller_id, exc)
            done = False
            continue
        async with pool.acquire() as conn, conn.transaction():
            await refund_store.set_reversal_id(conn, refund["id"], seller_id, reversal_id)
            await ledger.record_transfer_reversal(
                conn,
                order_id=order["id"],
                refund_id=refund["id"],
                seller_id=seller_id,
                currency=order["currency"],
                amount=reversal,
                reversal_id=reversal_id,
            )
    return done


def _seller_shares(lines: list[dict]) -> dict[UUID, tuple[int, int]]:
    """Per seller, (platform fee given up, transfer to reverse) of a refund's lines."""
    fees: dict[UUID, int] = defaultdict(int)
    reversals: dict[UUID, int] = defaultdict(int)
    for line in lines:
        seller_id = UUID(line["seller_id"])
        fees[seller_id] += line["platform_fee_amount"]
        reversals[seller_id] += line["transfer_reversal_amount"]
    return {seller_id: (fees[seller_id], reversals[seller_id]) for seller_id in fees}
