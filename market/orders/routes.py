"""Carts, checkout, orders, sellers' sales and refunds, the operator's money routes and Stripe's webhook,
over HTTP. The rules live in carts.py, checkout.py, lifecycle.py, refunds.py, accounting.py, webhook.py."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from market.core.auth import SELLER_KEY, operator_guard
from market.core.db import BIGINT_MAX
from market.core.dependencies import AppSettings, Pool
from market.core.errors import Unavailable
from market.orders import accounting, carts, checkout, lifecycle, refunds, views, webhook
from market.orders.schemas import (
    CartIn,
    CartItemIn,
    CartView,
    CheckoutIn,
    OrderLedger,
    OrderStatus,
    OrderView,
    PayoutAccount,
    ReconcileIn,
    ReconcileReport,
    RefundIn,
    RefundView,
    SellerSale,
    SellerSalePage,
    Shipment,
    TakeRateIn,
    TakeRateView,
    WebhookAnswer,
)
from payments.gateway import StripeGateway
from sellers.accounts import Principal

SellerPrincipal = NamedDependency[Principal]
Gateway = NamedDependency[StripeGateway]
# A product id in a path, bounded as the database bounds it, so that a larger number is a 400.
ProductIdInPath = Annotated[int, PathParameter(ge=1, le=BIGINT_MAX)]


class CartController(Controller):
    path = "/v1/carts"
    tags = ("carts",)

    @post("/", status_code=201, summary="Start a cart; its id is all that is needed to use it")
    async def create(self, pool: Pool, data: Annotated[CartIn | None, Body()] = None) -> CartView:
        return await carts.create_cart(pool, data or CartIn())

    @get("/{cart_id:uuid}", summary="The cart at today's prices and stock, grouped per seller")
    async def show(self, cart_id: FromPath[UUID], pool: Pool) -> CartView:
        return await carts.get_cart(pool, cart_id)

    @put(
        "/{cart_id:uuid}/items/{product_id:int}",
        summary="Set how many units of a product the cart holds (0 removes it)",
    )
    async def set_item(
        self, cart_id: FromPath[UUID], product_id: ProductIdInPath, data: JSONBody[CartItemIn], pool: Pool
    ) -> CartView:
        return await carts.set_item(pool, cart_id, product_id, data)

    @delete(
        "/{cart_id:uuid}/items/{product_id:int}", status_code=200, summary="Remove a product from the cart"
    )
    async def remove_item(self, cart_id: FromPath[UUID], product_id: ProductIdInPath, pool: Pool) -> CartView:
        return await carts.remove_item(pool, cart_id, product_id)

    @post(
        "/{cart_id:uuid}/checkout",
        status_code=201,
        summary="Order what is in the cart and start paying for it",
        description=(
            "Prices come from the catalog now; stock is held for AGORA_RESERVATION_MINUTES. "
            "`checkout_session`: the answer's `checkout_url` is Stripe's payment page. `payment_intent`: "
            "pays at once with `payment_method`; the answer is paid, or pending with `payment.status` "
            "requires_action (3-D Secure) and its `client_secret`. A declined card answers 402. A payment is "
            "in one currency: a cart priced in several is checked out once per `currency`, each order taking "
            "that currency's items; the rest stay in the cart."
        ),
    )
    async def checkout(
        self,
        cart_id: FromPath[UUID],
        data: JSONBody[CheckoutIn],
        pool: Pool,
        gateway: Gateway,
        settings: AppSettings,
    ) -> OrderView:
        return await checkout.checkout(pool, gateway, settings, cart_id, data)


class OrderController(Controller):
    path = "/v1/orders"
    tags = ("orders",)

    @get("/{order_id:uuid}", summary="An order: status, lines per seller, totals, payment")
    async def show(self, order_id: FromPath[UUID], pool: Pool) -> OrderView:
        return await views.get_order(pool, order_id)


class SellerOrderController(Controller):
    path = "/v1/seller"
    tags = ("seller orders",)
    security = SELLER_KEY

    @get("/orders", summary="This seller's orders, newest first")
    async def list_orders(
        self,
        principal: SellerPrincipal,
        pool: Pool,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
        status: FromQuery[OrderStatus | None] = None,
    ) -> SellerSalePage:
        return await views.seller_sales(
            pool, principal.seller.seller_id, cursor=cursor, status=status, limit=limit
        )

    @post(
        "/orders/{seller_order_id:uuid}/fulfill",
        status_code=200,
        summary="Mark this seller's part shipped, with its carrier and tracking number",
        description="The body is optional; sent again later, it adds the tracking. The buyer's agent is told.",
    )
    async def fulfill(
        self,
        seller_order_id: FromPath[UUID],
        principal: SellerPrincipal,
        pool: Pool,
        data: Annotated[Shipment | None, Body()] = None,
    ) -> SellerSale:
        await lifecycle.fulfill(pool, principal.seller.seller_id, seller_order_id, data)
        return await views.seller_sale(pool, principal.seller.seller_id, seller_order_id)

    @post(
        "/orders/{seller_order_id:uuid}/refunds",
        status_code=201,
        summary="Refund units of this seller's own lines",
    )
    async def refund(
        self,
        seller_order_id: FromPath[UUID],
        data: JSONBody[RefundIn],
        principal: SellerPrincipal,
        pool: Pool,
        gateway: Gateway,
    ) -> RefundView:
        return await refunds.refund_as_seller(
            pool, gateway, principal.seller.seller_id, seller_order_id, data
        )

    @post(
        "/payouts/account",
        status_code=200,
        summary="The seller's payout account at Stripe, created the first time",
    )
    async def payout_account(self, principal: SellerPrincipal, pool: Pool, gateway: Gateway) -> PayoutAccount:
        return await accounting.payout_account(pool, gateway, principal.seller.seller_id)


class OrderOperatorController(Controller):
    path = "/v1/operator"
    tags = ("operator",)
    guards = (operator_guard,)
    security = ({"OperatorToken": []},)

    @get("/orders/{order_id:uuid}/ledger", summary="An order's ledger entries and whether they balance")
    async def ledger(self, order_id: FromPath[UUID], pool: Pool) -> OrderLedger:
        return await accounting.order_ledger(pool, order_id)

    @post("/orders/{order_id:uuid}/refunds", status_code=201, summary="Refund units of any lines of an order")
    async def refund(
        self, order_id: FromPath[UUID], data: JSONBody[RefundIn], pool: Pool, gateway: Gateway
    ) -> RefundView:
        return await refunds.refund_as_operator(pool, gateway, order_id, data)

    @post("/reconcile", status_code=200, summary="Compare the ledger with Stripe, order by order")
    async def reconcile(self, data: JSONBody[ReconcileIn], pool: Pool, gateway: Gateway) -> ReconcileReport:
        return await accounting.reconcile(pool, gateway, data)

    @get("/take-rates", summary="The take rates that differ from AGORA_TAKE_RATE_BPS")
    async def take_rates(self, pool: Pool) -> list[TakeRateView]:
        return await accounting.list_take_rates(pool)

    @put("/take-rates", summary="Set a seller's or a category's take rate")
    async def set_take_rate(self, data: JSONBody[TakeRateIn], pool: Pool) -> TakeRateView:
        return await accounting.set_take_rate(pool, data)

    @delete("/take-rates", status_code=204, summary="Remove a take rate: the default applies again")
    async def delete_take_rate(
        self,
        pool: Pool,
        # "scope" is a name Litestar keeps for the ASGI scope: read under another name.
        rate_scope: Annotated[Literal["seller", "category"], QueryParameter(name="scope")],
        key: Annotated[str, QueryParameter(min_length=1, max_length=750)],
    ) -> None:
        await accounting.delete_take_rate(pool, rate_scope, key)


@post("/v1/stripe/webhook", status_code=200, tags=["stripe"], summary="Stripe's events (signed)")
async def stripe_webhook(
    request: Request, pool: Pool, gateway: Gateway, settings: AppSettings
) -> WebhookAnswer:
    if not settings.stripe_webhook_secret:
        raise Unavailable(
            "payments_disabled",
            "Webhooks are not configured on this node (AGORA_STRIPE_WEBHOOK_SECRET).",
        )
    body = await request.body()  # the raw bytes: the signature covers them exactly
    return await webhook.receive(
        pool, gateway, settings.stripe_webhook_secret, body, request.headers.get("stripe-signature")
    )


ROUTES = [CartController, OrderController, SellerOrderController, OrderOperatorController, stripe_webhook]
