"""The two pages Stripe's hosted checkout sends shoppers back to. Small, self-contained HTML.

The success page can be reached before Stripe's webhook has marked the order paid: it then says the
payment is being confirmed and refreshes itself until the order is paid. The pages run no script and load
nothing; their one style element is allowed by its hash (Content-Security-Policy).
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from html import escape
from uuid import UUID

from babel.numbers import format_currency, get_currency_precision
from litestar import MediaType, Response, get
from litestar.params import FromQuery

from market.core.dependencies import Pool
from market.core.money import Money
from market.orders import views
from market.orders.schemas import OrderView

REFRESH_SECONDS = 2

_CSS = """
body{margin:0;background:#f6f8fa;color:#1a1f36;font:16px/1.5 system-ui,sans-serif}
main{max-width:520px;margin:48px auto;background:#fff;border-radius:12px;padding:32px;
box-shadow:0 2px 12px rgba(26,31,54,.08)}
h1{font-size:22px;margin:0 0 16px}
table{width:100%;border-collapse:collapse;margin:16px 0}
td{padding:6px 0;border-bottom:1px solid #e6e9ef}
td.num{text-align:right;white-space:nowrap}
tr.total td{font-weight:600;border-bottom:0}
.muted{color:#697386;font-size:14px}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@get("/checkout/success", include_in_schema=False, media_type=MediaType.HTML)
async def checkout_success(
    pool: Pool, order_id: FromQuery[UUID], session_id: FromQuery[str | None] = None
) -> Response[str]:
    order = await _order(pool, order_id)
    if order is None:
        return _page("Order not found", "<h1>Order not found</h1><p>No such order.</p>", status=404)
    if order.status in ("paid", "fulfilled", "partially_refunded", "refunded"):
        title, intro, refresh = (
            "Thank you",
            f"<p>Order <code>{order.order_id}</code> is <strong>paid</strong>.</p>",
            False,
        )
    elif order.status == "pending":
        title, refresh = "Confirming your payment", True
        intro = (
            "<p>Payment received, confirming&hellip; This page refreshes until the payment is confirmed.</p>"
        )
    else:
        title, refresh = "Order canceled", False
        intro = _canceled_text(order)
    return _page(title, f"<h1>{escape(title)}</h1>{intro}{_summary(order)}", refresh=refresh)


@get("/checkout/cancel", include_in_schema=False, media_type=MediaType.HTML)
async def checkout_cancel(pool: Pool, order_id: FromQuery[UUID]) -> Response[str]:
    order = await _order(pool, order_id)
    if order is None:
        return _page("Order not found", "<h1>Order not found</h1><p>No such order.</p>", status=404)
    if order.status == "pending":
        until = order.reserved_until.strftime("%H:%M UTC")
        text = (
            "<p>You left the payment page; nothing was charged. The items stay reserved for you until "
            f"{until}; after that the order is canceled.</p>"
        )
    elif order.status == "canceled":
        text = _canceled_text(order)
    else:
        text = (
            f"<p>Order <code>{order.order_id}</code> is already {escape(order.status.replace('_', ' '))}.</p>"
        )
    return _page("Checkout canceled", f"<h1>Checkout canceled</h1>{text}{_summary(order)}")


async def _order(pool, order_id: UUID) -> OrderView | None:
    async with pool.acquire() as conn:
        return await views.order_view(conn, order_id)


def _canceled_text(order: OrderView) -> str:
    if order.refunded.amount:
        return (
            "<p>The items were no longer available when the payment arrived; "
            "it has been refunded in full.</p>"
        )
    return "<p>This order was canceled; nothing was charged.</p>"


def _summary(order: OrderView) -> str:
    rows = "".join(
        f"<tr><td>{escape(line.title)} &times; {line.quantity}<br>"
        f"<span class='muted'>{escape(part.seller_name)}"
        f"</span></td><td class='num'>{_money(line.line_total)}</td></tr>"
        for part in order.sellers
        for line in part.lines
    )
    total = f"<tr class='total'><td>Total</td><td class='num'>{_money(order.total)}</td></tr>"
    return f"<table>{rows}{total}</table>"


def _money(money: Money) -> str:
    # Decimal, not float: minor units scaled by the currency's own exponent (2 for USD, 0 for JPY).
    value = Decimal(money.amount).scaleb(-get_currency_precision(money.currency))
    return escape(format_currency(value, money.currency, locale="en_US"))


def _page(title: str, body: str, *, status: int = 200, refresh: bool = False) -> Response[str]:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f"<title>{escape(title)} · Agora</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return Response(
        html,
        status_code=status,
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


PAGES = [checkout_success, checkout_cancel]
