"""The ledger books every movement of an order's money once, and says whether the order adds up."""

from __future__ import annotations

import asyncpg
import pytest

from payments import ledger
from payments.ledger import OrderBalance, SellerTotals
from tests.payments.conftest import add_order, add_refund, add_seller


async def book_paid_order(db: asyncpg.Connection, *, transfer_b: bool = True):
    """A 1000-cent order from two sellers (600 + 400, fees 10%), paid and, optionally, fully paid out."""
    shop_a, shop_b = await add_seller(db, "Shop A"), await add_seller(db, "Shop B")
    order_id = await add_order(db, total_amount=1000, platform_fee_amount=100)
    await ledger.record_charge(db, order_id=order_id, currency="USD", amount=1000, charge_id="ch_1")
    for seller_id, fee in ((shop_a, 60), (shop_b, 40)):
        await ledger.record_platform_fee(
            db, order_id=order_id, seller_id=seller_id, currency="USD", amount=fee, charge_id="ch_1"
        )
    await ledger.record_transfer(
        db, order_id=order_id, seller_id=shop_a, currency="USD", amount=540, transfer_id="tr_a"
    )
    if transfer_b:
        await ledger.record_transfer(
            db, order_id=order_id, seller_id=shop_b, currency="USD", amount=360, transfer_id="tr_b"
        )
    return order_id, shop_a, shop_b


async def book_refund_of_shop_a(db: asyncpg.Connection, order_id, shop_a) -> None:
    """200 back to the shopper from Shop A's lines: 20 of the platform's fee, 180 from Shop A's transfer."""
    refund_id = await add_refund(db, order_id, amount=200, platform_fee_amount=20)
    await ledger.record_refund(
        db, order_id=order_id, refund_id=refund_id, currency="USD", amount=200, stripe_refund_id="re_1"
    )
    await ledger.record_platform_fee_refund(
        db, order_id=order_id, refund_id=refund_id, seller_id=shop_a, currency="USD", amount=20
    )
    await ledger.record_transfer_reversal(
        db,
        order_id=order_id,
        refund_id=refund_id,
        seller_id=shop_a,
        currency="USD",
        amount=180,
        reversal_id="trr_1",
    )


async def test_a_paid_and_partly_refunded_order_balances(db: asyncpg.Connection) -> None:
    order_id, shop_a, shop_b = await book_paid_order(db)
    await book_refund_of_shop_a(db, order_id, shop_a)

    balance = await ledger.order_balance(db, order_id)
    assert balance == OrderBalance(
        charged=1000,
        refunded=200,
        platform_fees=100,
        platform_fee_refunds=20,
        transferred=900,
        reversed=180,
        currency="USD",
        seller_totals={
            shop_a: SellerTotals(platform_fees=60, platform_fee_refunds=20, transferred=540, reversed=180),
            shop_b: SellerTotals(platform_fees=40, transferred=360),
        },
    )
    assert balance.balanced and balance.kept == balance.paid_out == 800
    assert balance.seller_totals[shop_a].net_transferred == 360


async def test_booking_the_same_stripe_object_twice_writes_it_once(db: asyncpg.Connection) -> None:
    order_id, shop_a, _ = await book_paid_order(db)
    # A webhook delivered again, a job retried: every write answers whether it wrote.
    assert not await ledger.record_charge(
        db, order_id=order_id, currency="USD", amount=1000, charge_id="ch_1"
    )
    assert not await ledger.record_transfer(
        db, order_id=order_id, seller_id=shop_a, currency="USD", amount=540, transfer_id="tr_a"
    )
    await book_refund_of_shop_a(db, order_id, shop_a)
    refund_id = (await ledger.entries(db, order_id))[-1].refund_id
    assert not await ledger.record_refund(
        db, order_id=order_id, refund_id=refund_id, currency="USD", amount=200, stripe_refund_id="re_1"
    )
    assert not await ledger.record_platform_fee_refund(
        db, order_id=order_id, refund_id=refund_id, seller_id=shop_a, currency="USD", amount=20
    )
    assert not await ledger.record_transfer_reversal(
        db,
        order_id=order_id,
        refund_id=refund_id,
        seller_id=shop_a,
        currency="USD",
        amount=180,
        reversal_id="trr_1",
    )

    entries = await ledger.entries(db, order_id)
    assert [entry.kind for entry in entries] == [
        "charge",
        "platform_fee",
        "platform_fee",
        "transfer",
        "transfer",
        "refund",
        "platform_fee_refund",
        "transfer_reversal",
    ]
    assert (await ledger.order_balance(db, order_id)).balanced


async def test_one_charge_books_a_fee_for_each_seller(db: asyncpg.Connection) -> None:
    order_id, shop_a, shop_b = await book_paid_order(db)
    fees = [entry for entry in await ledger.entries(db, order_id) if entry.kind == "platform_fee"]
    assert {(fee.seller_id, fee.amount, fee.stripe_object_id) for fee in fees} == {
        (shop_a, 60, "ch_1"),
        (shop_b, 40, "ch_1"),
    }


async def test_an_order_with_a_transfer_missing_does_not_balance(db: asyncpg.Connection) -> None:
    order_id, _, shop_b = await book_paid_order(db, transfer_b=False)
    balance = await ledger.order_balance(db, order_id)
    assert not balance.balanced
    assert (balance.kept, balance.paid_out) == (1000, 640)
    assert balance.seller_totals[shop_b].transferred == 0


async def test_an_order_with_nothing_booked_is_empty(db: asyncpg.Connection) -> None:
    order_id = await add_order(db, total_amount=500, platform_fee_amount=50)
    assert await ledger.entries(db, order_id) == []
    assert await ledger.order_balance(db, order_id) == OrderBalance()


async def test_amounts_are_whole_non_negative_minor_units(db: asyncpg.Connection) -> None:
    order_id = await add_order(db, total_amount=500, platform_fee_amount=50)
    for amount in (-1, 10.5, True):
        with pytest.raises(ValueError, match="minor units"):
            await ledger.record_charge(db, order_id=order_id, currency="USD", amount=amount, charge_id="ch_x")
    with pytest.raises(ValueError, match="currency"):
        await ledger.record_charge(db, order_id=order_id, currency="US", amount=500, charge_id="ch_x")
    assert await ledger.entries(db, order_id) == []


async def test_currencies_are_booked_in_upper_case(db: asyncpg.Connection) -> None:
    order_id = await add_order(db, total_amount=500, platform_fee_amount=50, currency="EUR")
    await ledger.record_charge(db, order_id=order_id, currency="eur", amount=500, charge_id="ch_eur")
    assert (await ledger.order_balance(db, order_id)).currency == "EUR"
