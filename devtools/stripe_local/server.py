"""The stripe_local server: localstripe's aiohttp app with this package's routes and middlewares added."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiohttp import web
from localstripe.errors import json_response
from localstripe.resources import store

from . import idempotency, paypage, shared_tokens
from .checkout import CheckoutSession, refresh_sessions_for
from .config import settings
from .connect import Account, Transfer
from .errors import stripe_error, stripe_errors_middleware
from .intents import authenticate_payment_intent
from .patches import webhook_clock
from .persistence import StateFile

# No API key needed: the payment page is opened by a browser, the rest is local tooling.
PUBLIC_PREFIXES = ("/pay/", "/_health", "/_test/", "/_config/")

_built: web.Application | None = None


async def health(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _form_or_json(request: web.Request) -> dict:
    if request.content_type == "application/json":
        return await request.json()
    return dict(await request.post())


async def test_authenticate(request: web.Request) -> web.Response:
    """POST /_test/payment_intents/{id}/authenticate, outcome=succeed|fail: the cardholder's 3DS answer."""
    outcome = (await _form_or_json(request)).get("outcome")
    if outcome not in ("succeed", "fail"):
        raise stripe_error(400, "outcome must be succeed or fail", param="outcome")
    intent_id = request.match_info["id"]
    intent = authenticate_payment_intent(intent_id, outcome == "succeed")
    refresh_sessions_for(intent_id)
    return json_response(intent._export())


async def test_reset(_request: web.Request) -> web.Response:
    """POST /_test/reset: forget every object and stored idempotent answer (webhook endpoints stay)."""
    store.clear()
    idempotency.clear()
    return json_response({"status": "ok"})


async def test_resend_event(request: web.Request) -> web.Response:
    """POST /_test/events/{id}/resend: deliver an event again to every webhook endpoint that takes its
    type, signed afresh with the current time (as `stripe events resend` does), to see that a receiver
    handles a replay. Answers with each endpoint's HTTP status."""
    import hashlib
    import hmac
    import json
    import time

    import aiohttp
    import localstripe.webhooks as ls_webhooks
    from localstripe.resources import Event

    event = Event._api_retrieve(request.match_info["id"])
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
    timestamp = int(time.time())
    statuses = {}
    async with aiohttp.ClientSession() as session:
        for name, hook in list(ls_webhooks._webhooks.items()):
            if hook.events is not None and event.type not in hook.events:
                continue
            signature = hmac.new(hook.secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256)
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}",
            }
            try:
                async with session.post(hook.url, data=payload, headers=headers) as answer:
                    statuses[name] = answer.status
            except aiohttp.ClientError as exc:
                statuses[name] = f"failed: {exc}"
    return json_response({"id": event.id, "type": event.type, "deliveries": statuses})


def _handler(func):
    """Like localstripe's api_extra, but passing every URL parameter, so nested ids work too."""

    async def handle(request: web.Request) -> web.Response:
        from localstripe.server import get_post_data, unflatten_data

        data = dict(await get_post_data(request) or {}) if request.method == "POST" else {}
        data.update(unflatten_data(request.query) or {})
        data.update(request.match_info)
        expand = data.pop("expand", None)
        return json_response(func(**data)._export(expand=expand))

    return handle


def _add_routes(app: web.Application, ls) -> None:
    add = app.router.add_route
    add("GET", "/_health", health)
    add("POST", "/_test/payment_intents/{id}/authenticate", test_authenticate)
    add("POST", "/_test/reset", test_reset)
    add("POST", "/_test/events/{id}/resend", test_resend_event)
    paypage.add_routes(app)
    shared_tokens.add_routes(app)

    sessions = "/v1/checkout/sessions"
    add("POST", sessions, ls.api_create(CheckoutSession, sessions))
    add("GET", sessions, ls.api_list_all(CheckoutSession, sessions))
    add("GET", sessions + "/{id}", ls.api_retrieve(CheckoutSession, sessions))
    add("POST", sessions + "/{id}", ls.api_update(CheckoutSession, sessions))
    add("POST", sessions + "/{id}/expire", _handler(CheckoutSession._api_expire))
    add("GET", sessions + "/{id}/line_items", _handler(CheckoutSession._api_list_line_items))

    accounts = "/v1/accounts"
    add("POST", accounts, ls.api_create(Account, accounts))
    add("GET", accounts, ls.api_list_all(Account, accounts))
    add("GET", accounts + "/{id}", ls.api_retrieve(Account, accounts))
    add("POST", accounts + "/{id}", ls.api_update(Account, accounts))
    add("DELETE", accounts + "/{id}", ls.api_delete(Account, accounts))

    transfers = "/v1/transfers"
    add("POST", transfers, ls.api_create(Transfer, transfers))
    add("GET", transfers, ls.api_list_all(Transfer, transfers))
    add("GET", transfers + "/{id}", ls.api_retrieve(Transfer, transfers))
    add("POST", transfers + "/{id}", ls.api_update(Transfer, transfers))
    add("POST", transfers + "/{id}/reversals", _handler(Transfer._api_create_reversal))
    add("GET", transfers + "/{id}/reversals", _handler(Transfer._api_list_reversals))
    add("GET", transfers + "/{id}/reversals/{reversal_id}", _handler(Transfer._api_retrieve_reversal))


def _install_middlewares(app: web.Application, ls) -> None:
    @web.middleware
    async def auth_unless_public(request: web.Request, handler):
        if request.path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        return await ls.auth_middleware(request, handler)

    middlewares = app.middlewares
    auth_index = middlewares.index(ls.auth_middleware)
    middlewares[auth_index] = auth_unless_public
    # Outside auth and the handlers, so that auth failures and unknown routes get Stripe's format too.
    middlewares.insert(auth_index, stripe_errors_middleware)
    middlewares.insert(0, idempotency.idempotency_middleware)  # outermost: a replay skips everything else


def build_app(webhook_delay: float = 0.2) -> web.Application:
    """localstripe's app, extended. There is one such app per process."""
    global _built
    webhook_clock.delay = webhook_delay
    if _built is None:
        from localstripe import server as ls  # after .patches, which must come first

        _install_middlewares(ls.app, ls)
        _add_routes(ls.app, ls)
        _built = ls.app
    return _built


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


async def serve(
    host: str, port: int, webhook_delay: float, public_url: str | None = None, state_file: Path | None = None
) -> None:
    """Serve until SIGINT or SIGTERM. `state_file`: where the objects are kept across restarts (loaded now,
    saved as they change and at exit); None keeps them in memory only."""
    app = build_app(webhook_delay)
    state = StateFile(state_file) if state_file is not None else None
    if state is not None:
        loaded = state.load()
        state.attach(app)
        logging.getLogger(__name__).info("stripe_local state: %d objects from %s", loaded, state_file)
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]  # differs from port when port is 0
    base = f"http://{_display_host(host)}:{bound_port}"
    settings.public_url = (public_url or base).rstrip("/")
    print(f"stripe_local listening on {base}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    saving = asyncio.create_task(state.keep()) if state is not None else None
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if saving is not None:
            saving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saving
            state.save()
