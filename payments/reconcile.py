"""Does Agora's ledger agree with Stripe? One order at a time, amount by amount.

The ledger is what Agora believes happened; Stripe's charge and transfers are what did. They can drift
apart when a process dies between a Stripe call and the ledger write, or when someone acts in Stripe's
dashboard. Each disagreement becomes a Difference an operator can look up in both places:

- the charge: captured and refunded amounts against the ledger's charge and refunds, and its amount and
  refunds against the order's own total_amount and refunded_amount; a charge Stripe does not have at all
  is one difference ("charge ch_... missing at Stripe": the ledger's charge against 0);
- each transfer of the order's transfer group: its amount and reversed amount against the ledger's
  transfer to that seller and the reversals booked for the seller;
- the ledger's own equation (money kept = fees kept + transfers kept), checked only when everything above
  agrees: an imbalance caused by a booking that differs from Stripe is already reported as that booking.
  A paid order whose seller transfer is still to be made (the sweeper retries it) shows up here too.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from payments import ledger
from payments.gateway import StripeGateway


class OrderMoney(msgspec.Struct, frozen=True):
    """What the caller knows of an order's money (from the orders table)."""

    order_id: UUID
    currency: str
    charge_id: str | None
    transfer_group: str
    total_amount: int
    refunded_amount: int


class Difference(msgspec.Struct, frozen=True):
    """`what` disagrees: the ledger says `ledger`, Stripe says `stripe` (minor units of the order's currency).

    For the ledger's own equation ("ledger balance"), `ledger` is the money kept from the shopper and
    `stripe` where the ledger says it went (net fees plus net transfers).
    """

    order_id: UUID
    what: str
    ledger: int
    stripe: int


async def reconcile_order(
    conn: asyncpg.Connection, gateway: StripeGateway, order: OrderMoney
) -> list[Difference]:
    """Every disagreement between the order's ledger and Stripe; an empty list means reconciled.

    Raises GatewayError when Stripe cannot be asked (a charge it does not have is a difference).
    """
    entries = await ledger.entries(conn, order.order_id)
    balance = await ledger.order_balance(conn, order.order_id)
    differences = await _charge_differences(gateway, order, balance)
    differences += await _transfer_differences(gateway, order, entries)
    if not differences and not balance.balanced:
        differences.append(Difference(order.order_id, "ledger balance", balance.kept, balance.paid_out))
    return differences


async def _charge_differences(
    gateway: StripeGateway, order: OrderMoney, balance: ledger.OrderBalance
) -> list[Difference]:
    if order.charge_id is None:
        # Never paid: the ledger should hold no charge and the order no refund either.
        return _compare(order, [("charge", balance.charged, 0), ("refunded", balance.refunded, 0)])
    charge = await gateway.charge_summary(order.charge_id)
    named = f"charge {order.charge_id}"
    if charge is None:
        return [Difference(order.order_id, f"{named} missing at Stripe", balance.charged, 0)]
    return _compare(
        order,
        [
            (named, balance.charged, charge.amount_captured),
            (f"{named} refunded", balance.refunded, charge.amount_refunded),
            # The orders table's own figures, which the shopper sees, checked against the same charge.
            ("order total_amount", order.total_amount, charge.amount),
            ("order refunded_amount", order.refunded_amount, charge.amount_refunded),
        ],
    )


async def _transfer_differences(
    gateway: StripeGateway, order: OrderMoney, entries: list[ledger.LedgerEntry]
) -> list[Difference]:
    booked: dict[str, int] = {}
    seller_of: dict[str, UUID | None] = {}
    reversed_for_seller: dict[UUID | None, int] = {}
    for entry in entries:
        if entry.kind == ledger.TRANSFER and entry.stripe_object_id:
            booked[entry.stripe_object_id] = booked.get(entry.stripe_object_id, 0) + entry.amount
            seller_of[entry.stripe_object_id] = entry.seller_id
        elif entry.kind == ledger.TRANSFER_REVERSAL:
            reversed_for_seller[entry.seller_id] = reversed_for_seller.get(entry.seller_id, 0) + entry.amount

    at_stripe = {transfer.id: transfer for transfer in await gateway.transfers_in_group(order.transfer_group)}
    comparisons: list[tuple[str, int, int]] = []
    for transfer_id in sorted(booked.keys() | at_stripe.keys()):
        transfer = at_stripe.get(transfer_id)
        # Reversals are booked per seller (one transfer per seller and order); a transfer the ledger lacks
        # has no seller to look them up by, so none count as booked for it.
        booked_reversed = (
            reversed_for_seller.get(seller_of[transfer_id], 0) if transfer_id in seller_of else 0
        )
        comparisons += [
            (f"transfer {transfer_id}", booked.get(transfer_id, 0), transfer.amount if transfer else 0),
            (
                f"transfer {transfer_id} reversed",
                booked_reversed,
                transfer.amount_reversed if transfer else 0,
            ),
        ]
    return _compare(order, comparisons)


def _compare(order: OrderMoney, comparisons: list[tuple[str, int, int]]) -> list[Difference]:
    return [
        Difference(order.order_id, what, booked, actual)
        for what, booked, actual in comparisons
        if booked != actual
    ]
