"""The marketplace ledger: every movement of an order's money, append-only, and whether it adds up.

Money comes in as one charge per order and goes out in two directions: the platform keeps a fee per
seller and transfers the rest to the seller. A refund runs the same path backwards: the shopper gets money
back, the platform gives up part of its fee and the seller's transfer is partly reversed. So for every order,
once each seller's transfer is made:

    charge - refund == (platform_fee - platform_fee_refund) + (transfer - transfer_reversal)

Every row names the Stripe object that moved the money (ch_, tr_, re_, trr_), and a Stripe object is booked
once per kind and seller: a webhook delivered twice or a retried job writes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from payments import store

CHARGE = "charge"
PLATFORM_FEE = "platform_fee"
TRANSFER = "transfer"
REFUND = "refund"
PLATFORM_FEE_REFUND = "platform_fee_refund"
TRANSFER_REVERSAL = "transfer_reversal"


class LedgerEntry(msgspec.Struct, frozen=True):
    kind: str
    amount: int
    currency: str
    seller_id: UUID | None
    stripe_object_id: str | None
    refund_id: UUID | None
    created_at: datetime


class SellerTotals(msgspec.Struct, frozen=True):
    """One seller's share of an order: what the platform kept and what was paid out to the seller."""

    platform_fees: int = 0
    platform_fee_refunds: int = 0
    transferred: int = 0
    reversed: int = 0

    @property
    def net_transferred(self) -> int:
        return self.transferred - self.reversed


class OrderBalance(msgspec.Struct, frozen=True):
    """The ledger's sums for one order. `currency` is None while nothing is booked."""

    charged: int = 0
    refunded: int = 0
    platform_fees: int = 0
    platform_fee_refunds: int = 0
    transferred: int = 0
    reversed: int = 0
    currency: str | None = None
    seller_totals: dict[UUID, SellerTotals] = {}

    @property
    def kept(self) -> int:
        """What the shopper has paid and not had back."""
        return self.charged - self.refunded

    @property
    def paid_out(self) -> int:
        """Where that money went: the platform's net fees plus the sellers' net transfers."""
        return (self.platform_fees - self.platform_fee_refunds) + (self.transferred - self.reversed)

    @property
    def balanced(self) -> bool:
        return self.kept == self.paid_out


async def record_charge(
    conn: asyncpg.Connection, *, order_id: UUID, currency: str, amount: int, charge_id: str
) -> bool:
    """The shopper paid `amount` for the whole order."""
    return await _book(conn, CHARGE, order_id, currency, amount, stripe_object_id=charge_id)


async def record_platform_fee(
    conn: asyncpg.Connection, *, order_id: UUID, seller_id: UUID, currency: str, amount: int, charge_id: str
) -> bool:
    """The platform's cut of one seller's part of the charge."""
    return await _book(
        conn, PLATFORM_FEE, order_id, currency, amount, seller_id=seller_id, stripe_object_id=charge_id
    )


async def record_transfer(
    conn: asyncpg.Connection, *, order_id: UUID, seller_id: UUID, currency: str, amount: int, transfer_id: str
) -> bool:
    """The seller was paid its part of the charge, less the platform's fee."""
    return await _book(
        conn, TRANSFER, order_id, currency, amount, seller_id=seller_id, stripe_object_id=transfer_id
    )


async def record_refund(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    refund_id: UUID,
    currency: str,
    amount: int,
    stripe_refund_id: str,
) -> bool:
    """The shopper got `amount` back (one Stripe refund, covering every seller's lines in it)."""
    return await _book(
        conn, REFUND, order_id, currency, amount, refund_id=refund_id, stripe_object_id=stripe_refund_id
    )


async def record_platform_fee_refund(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    refund_id: UUID,
    seller_id: UUID,
    currency: str,
    amount: int,
) -> bool:
    """The platform's share of a refund: the part of its fee on one seller's refunded lines it gives up."""
    # No Stripe object moves this money (it is the platform's part of the Stripe refund), so the row is
    # keyed by Agora's refund id instead, which books it once per refund and seller all the same.
    return await _book(
        conn,
        PLATFORM_FEE_REFUND,
        order_id,
        currency,
        amount,
        seller_id=seller_id,
        refund_id=refund_id,
        stripe_object_id=fee_refund_key(refund_id),
    )


async def record_transfer_reversal(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    refund_id: UUID,
    seller_id: UUID,
    currency: str,
    amount: int,
    reversal_id: str,
) -> bool:
    """The seller's share of a refund, taken back from its transfer."""
    return await _book(
        conn,
        TRANSFER_REVERSAL,
        order_id,
        currency,
        amount,
        seller_id=seller_id,
        refund_id=refund_id,
        stripe_object_id=reversal_id,
    )


def fee_refund_key(refund_id: UUID) -> str:
    """What a platform fee refund row holds in stripe_object_id (see record_platform_fee_refund)."""
    return f"refund:{refund_id}"


async def entries(conn: asyncpg.Connection, order_id: UUID) -> list[LedgerEntry]:
    """The order's ledger rows, oldest first."""
    return [
        LedgerEntry(
            kind=row["kind"],
            amount=row["amount"],
            currency=row["currency"],
            seller_id=row["seller_id"],
            stripe_object_id=row["stripe_object_id"],
            refund_id=row["refund_id"],
            created_at=row["created_at"],
        )
        for row in await store.ledger_entries(conn, order_id)
    ]


async def order_balance(conn: asyncpg.Connection, order_id: UUID) -> OrderBalance:
    """The order's ledger summed up by kind, in total and per seller."""
    totals = dict.fromkeys(
        (CHARGE, REFUND, PLATFORM_FEE, PLATFORM_FEE_REFUND, TRANSFER, TRANSFER_REVERSAL), 0
    )
    per_seller: dict[UUID, dict[str, int]] = {}
    currencies: set[str] = set()
    for row in await store.ledger_sums(conn, order_id):
        totals[row["kind"]] += row["amount"]
        currencies.add(row["currency"])
        if row["seller_id"] is not None:
            per_seller.setdefault(row["seller_id"], {})[row["kind"]] = row["amount"]
    if len(currencies) > 1:
        # An order is paid in one currency; sums across currencies would mean nothing.
        raise ValueError(f"order {order_id} has ledger entries in several currencies: {sorted(currencies)}")

    return OrderBalance(
        charged=totals[CHARGE],
        refunded=totals[REFUND],
        platform_fees=totals[PLATFORM_FEE],
        platform_fee_refunds=totals[PLATFORM_FEE_REFUND],
        transferred=totals[TRANSFER],
        reversed=totals[TRANSFER_REVERSAL],
        currency=currencies.pop() if currencies else None,
        seller_totals={
            seller_id: SellerTotals(
                platform_fees=kinds.get(PLATFORM_FEE, 0),
                platform_fee_refunds=kinds.get(PLATFORM_FEE_REFUND, 0),
                transferred=kinds.get(TRANSFER, 0),
                reversed=kinds.get(TRANSFER_REVERSAL, 0),
            )
            for seller_id, kinds in per_seller.items()
        },
    )


async def _book(
    conn: asyncpg.Connection,
    kind: str,
    order_id: UUID,
    currency: str,
    amount: int,
    *,
    stripe_object_id: str,
    seller_id: UUID | None = None,
    refund_id: UUID | None = None,
) -> bool:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"a ledger amount is a non-negative integer of minor units, not {amount!r}")
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    if not stripe_object_id:
        raise ValueError(f"a {kind} entry must name the object that moved the money")
    return await store.insert_ledger_entry(
        conn,
        order_id=order_id,
        kind=kind,
        amount=amount,
        currency=currency.upper(),
        seller_id=seller_id,
        refund_id=refund_id,
        stripe_object_id=stripe_object_id,
    )
