"""The operator's view of the money: an order's ledger, reconciliation with Stripe, the take rates; and the
seller's payout account, without which its products cannot be bought."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from market.core.errors import InvalidInput, NotFound, ProviderUnavailable
from market.core.money import Money
from market.orders import store, views
from market.orders.schemas import (
    BalanceView,
    DifferenceView,
    LedgerEntryView,
    OrderLedger,
    PayoutAccount,
    ReconcileIn,
    ReconcileReport,
    TakeRateIn,
    TakeRateView,
)
from payments import ledger, take_rates
from payments.gateway import GatewayError, StripeGateway
from payments.reconcile import OrderMoney, reconcile_order
from sellers import accounts

RECONCILE_LIMIT = 1000


async def order_ledger(pool: asyncpg.Pool, order_id: UUID) -> OrderLedger:
    async with pool.acquire() as conn:
        if await store.get_order(conn, order_id) is None:
            raise views.order_not_found(order_id)
        entries = await ledger.entries(conn, order_id)
        balance = await ledger.order_balance(conn, order_id)
    return OrderLedger(
        order_id=order_id,
        entries=[
            LedgerEntryView(
                kind=entry.kind,
                amount=Money(entry.amount, entry.currency),
                seller_id=entry.seller_id,
                stripe_object_id=entry.stripe_object_id,
                refund_id=entry.refund_id,
                created_at=entry.created_at,
            )
            for entry in entries
        ],
        balance=BalanceView(
            currency=balance.currency,
            charged=balance.charged,
            refunded=balance.refunded,
            platform_fees=balance.platform_fees,
            platform_fee_refunds=balance.platform_fee_refunds,
            transferred=balance.transferred,
            reversed=balance.reversed,
            balanced=balance.balanced,
        ),
    )


async def reconcile(pool: asyncpg.Pool, gateway: StripeGateway, data: ReconcileIn) -> ReconcileReport:
    """Compare the ledger with Stripe for the orders asked for (by id, or created since a time; by default
    the newest orders that were charged, up to RECONCILE_LIMIT)."""
    differences: list[DifferenceView] = []
    async with pool.acquire() as conn:
        orders = await store.charged_orders(
            conn, order_ids=data.order_ids, since=data.since, limit=RECONCILE_LIMIT
        )
        for order in orders:
            money = OrderMoney(
                order_id=order["id"],
                currency=order["currency"],
                charge_id=order["charge_id"],
                transfer_group=order["transfer_group"],
                total_amount=order["total_amount"],
                refunded_amount=order["refunded_amount"],
            )
            try:
                found = await reconcile_order(conn, gateway, money)
            except GatewayError as exc:
                raise ProviderUnavailable(
                    "payment_provider_unavailable", f"Could not ask Stripe: {exc}"
                ) from None
            differences += [
                DifferenceView(order_id=d.order_id, what=d.what, ledger=d.ledger, stripe=d.stripe)
                for d in found
            ]
    return ReconcileReport(checked=len(orders), differences=differences)


async def list_take_rates(pool: asyncpg.Pool) -> list[TakeRateView]:
    async with pool.acquire() as conn:
        return [_rate_view(rate) for rate in await take_rates.list_rates(conn)]


async def set_take_rate(pool: asyncpg.Pool, data: TakeRateIn) -> TakeRateView:
    try:
        key = take_rates.canonical_key(data.scope, data.key)
    except ValueError as exc:
        raise InvalidInput.invalid("body.key", str(exc)) from None
    if data.scope == "seller" and await accounts.get_seller(pool, UUID(key)) is None:
        raise NotFound("seller_not_found", f"No seller {key}.", where="body.key")
    async with pool.acquire() as conn:
        return _rate_view(await take_rates.set_rate(conn, data.scope, key, data.bps))


async def delete_take_rate(pool: asyncpg.Pool, scope: str, key: str) -> None:
    async with pool.acquire() as conn:
        try:
            deleted = await take_rates.delete_rate(conn, scope, key)
        except ValueError as exc:
            raise InvalidInput.invalid("query.key", str(exc)) from None
    if not deleted:
        raise NotFound("take_rate_not_found", f"No {scope} take rate for {key!r}.", where="query.key")


async def payout_account(pool: asyncpg.Pool, gateway: StripeGateway, seller_id: UUID) -> PayoutAccount:
    """The seller's Stripe Connect account, created on first asking (Stripe's side is idempotent too)."""
    seller = await accounts.payout_details(pool, seller_id)
    if seller is None:
        raise NotFound("seller_not_found", f"No seller {seller_id}.")
    if seller.stripe_account_id:
        return PayoutAccount(account_id=seller.stripe_account_id, created=False)
    try:
        account_id = await gateway.create_connected_account(
            email=seller.email, country=seller.country, seller_id=str(seller_id)
        )
    except GatewayError as exc:
        raise ProviderUnavailable(
            "payment_provider_unavailable", f"Could not create the account: {exc}"
        ) from None
    kept = await accounts.keep_payout_account(pool, seller_id, account_id)
    return PayoutAccount(account_id=kept, created=kept == account_id)


def _rate_view(rate: take_rates.TakeRate) -> TakeRateView:
    return TakeRateView(scope=rate.scope, key=rate.key, bps=rate.bps, updated_at=rate.updated_at)
