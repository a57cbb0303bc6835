"""The hosted payment page of a Checkout Session, served locally: card form, 3-D Secure step, redirects.

Self-contained HTML (no scripts, no external assets) so that it works offline and in a plain HTTP client.
"""

from __future__ import annotations

import re
from html import escape

from aiohttp import web
from localstripe.errors import UserError

from .checkout import CheckoutSession, find_session
from .money import format_amount

DEFAULT_CARD = "4242 4242 4242 4242"
TEST_CARDS = (
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "is declined"),
    ("4000 0000 0000 9995", "is declined for insufficient funds"),
    ("4000 0027 6000 3184", "asks for 3-D Secure authentication"),
)

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1a1f36;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:440px;margin:48px auto;background:#fff;border-radius:12px;padding:32px;
box-shadow:0 2px 12px rgba(26,31,54,.08)}
h1{font-size:20px;margin:0 0 20px}
table{width:100%;border-collapse:collapse;margin-bottom:20px}
td{padding:8px 0;border-bottom:1px solid #e6e9ef;vertical-align:top}
td.num{text-align:right;white-space:nowrap;padding-left:16px}
tr.total td{font-weight:600;border-bottom:0;font-size:18px}
.qty{color:#697386}
label{display:block;font-weight:600;margin-bottom:6px}
input{width:100%;padding:10px 12px;font:inherit;font-family:ui-monospace,monospace;border:1px solid #c1c9d2;
border-radius:6px}
button{width:100%;margin-top:16px;padding:12px;font:inherit;font-weight:600;color:#fff;background:#635bff;
border:0;border-radius:6px;cursor:pointer}
button.secondary{background:#fff;color:#df1b41;border:1px solid #df1b41}
.muted,.hints{color:#697386;font-size:14px}
.hints{padding-left:18px;margin:8px 0 0}
.hints code{color:#1a1f36}
.error{background:#fdecef;color:#a41c3a;border-radius:6px;padding:10px 12px}
a.cancel{display:block;text-align:center;margin-top:16px;color:#697386}
footer{text-align:center;color:#8792a2;font-size:13px;margin-bottom:32px}
"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · stripe_local</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main>"
        "<footer>stripe_local test checkout · no real payment is made</footer></body></html>"
    )
    return web.Response(text=html, status=status, content_type="text/html")


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _total(session: CheckoutSession) -> str:
    return format_amount(session.amount_total, session.currency)


def _summary(session: CheckoutSession) -> str:
    rows = "".join(
        f"<tr><td>{escape(item.description)}<span class='qty'> &times; {item.quantity}</span></td>"
        f"<td class='num'>{format_amount(item.amount_total, item.currency)}</td></tr>"
        for item in session._line_items
    )
    total = f"<tr class='total'><td>Total</td><td class='num'>{_total(session)}</td></tr>"
    return f"<table>{rows}{total}</table>"


def _payment_form(
    session: CheckoutSession, *, message: str | None = None, card: str = DEFAULT_CARD, status: int = 200
) -> web.Response:
    error = f"<p class='error' role='alert'>{escape(message)}</p>" if message else ""
    email = (
        f"<p class='muted'>Paying as {escape(session.customer_email)}</p>" if session.customer_email else ""
    )
    hints = "".join(f"<li><code>{number}</code> {outcome}</li>" for number, outcome in TEST_CARDS)
    cancel = (
        f"<a class='cancel' href='/pay/{session.id}/cancel'>Cancel and go back</a>"
        if session.cancel_url
        else ""
    )
    body = (
        f"<h1>Checkout</h1>{_summary(session)}{email}{error}"
        f"<form method='post' action='/pay/{session.id}'>"
        "<label for='card_number'>Card number</label>"
        "<input id='card_number' name='card_number' inputmode='numeric' autocomplete='cc-number'"
        f" value='{escape(card, quote=True)}'>"
        f"<p class='muted'>Test cards:</p><ul class='hints'>{hints}</ul>"
        f"<button type='submit'>Pay {_total(session)}</button></form>{cancel}"
    )
    return _page("Checkout", body, status)


def _challenge(session: CheckoutSession) -> web.Response:
    action = f"/pay/{session.id}/authenticate"
    body = (
        "<h1>3-D Secure authentication</h1>"
        f"<p>Your bank asks you to confirm this payment of <strong>{_total(session)}</strong>.</p>"
        f"<form method='post' action='{action}'>"
        "<button type='submit' name='outcome' value='succeed'>Complete authentication</button></form>"
        f"<form method='post' action='{action}'>"
        "<button class='secondary' type='submit' name='outcome' value='fail'>"
        "Fail authentication</button></form>"
    )
    return _page("Authenticate payment", body)


def _success_location(session: CheckoutSession) -> str:
    return session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)


def _session_or_page(request: web.Request) -> tuple[CheckoutSession | None, web.Response | None]:
    """The open session of the URL, or the page explaining why it cannot be paid."""
    session = find_session(request.match_info["id"])
    if session is None:
        return None, _page("Not found", "<h1>Checkout session not found</h1>", 404)
    if session.status == "complete":
        link = escape(_success_location(session), quote=True)
        body = (
            "<h1>Already paid</h1><p>This checkout session has been paid; it cannot be paid again.</p>"
            f"<p><a href='{link}'>Continue to the merchant</a></p>"
        )
        return None, _page("Already paid", body, 409)
    if session.status == "expired":
        body = "<h1>Session expired</h1><p>This checkout session has expired and can no longer be paid.</p>"
        return None, _page("Session expired", body, 410)
    return session, None


def _after_attempt(session: CheckoutSession, intent_status: str) -> web.Response:
    if session.status == "complete":
        return _redirect(_success_location(session))
    if intent_status == "requires_action":
        return _challenge(session)
    error = session._intent()._export().get("last_payment_error") or {}
    return _payment_form(
        session, message=error.get("message") or "The payment did not go through.", status=402
    )


def _failure(session: CheckoutSession, error: UserError, card: str = DEFAULT_CARD) -> web.Response:
    message = error.body["error"].get("message") or "The payment did not go through."
    return _payment_form(session, message=message, card=card, status=402 if error.code == 402 else 400)


async def show(request: web.Request) -> web.Response:
    session, page = _session_or_page(request)
    if page is not None:
        return page
    intent = session._intent()
    if intent is not None and intent.status == "requires_action":
        return _challenge(session)
    return _payment_form(session)


async def pay(request: web.Request) -> web.Response:
    session, page = _session_or_page(request)
    if page is not None:
        return page
    intent = session._intent()
    if intent is not None and intent.status == "requires_action":
        return _challenge(session)  # a card attempt is waiting for its 3-D Secure answer
    form = await request.post()
    card = str(form.get("card_number", ""))
    number = re.sub(r"[\s-]", "", card)
    if not re.fullmatch(r"\d{16}", number):
        message = "Enter a 16-digit test card number."
        return _payment_form(session, message=message, card=card, status=400)
    try:
        status = session._pay(number)
    except UserError as e:
        return _failure(session, e, card)
    return _after_attempt(session, status)


async def authenticate(request: web.Request) -> web.Response:
    session, page = _session_or_page(request)
    if page is not None:
        return page
    outcome = (await request.post()).get("outcome")
    if outcome not in ("succeed", "fail"):
        return _page("Bad request", "<h1>Bad request</h1><p>outcome must be succeed or fail.</p>", 400)
    try:
        status = session._authenticate(outcome == "succeed")
    except UserError as e:
        return _failure(session, e)
    return _after_attempt(session, status)


async def cancel(request: web.Request) -> web.Response:
    session, page = _session_or_page(request)
    if page is not None:
        return page
    if not session.cancel_url:
        return _page(
            "No cancel URL", "<h1>Nothing to go back to</h1><p>This session has no cancel_url.</p>", 404
        )
    return _redirect(session.cancel_url)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/pay/{id}", show)
    app.router.add_post("/pay/{id}", pay)
    app.router.add_post("/pay/{id}/authenticate", authenticate)
    app.router.add_get("/pay/{id}/cancel", cancel)
