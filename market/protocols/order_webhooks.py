"""Delivering the order events owed to agents (`market.orders.order_events`, the outbox) to their webhooks.

Each event is POSTed in its protocol's shape (ACP's `order_create` / `order_update`), signed with the
agent's secret: `Merchant-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, with
`Request-Id: evt_<id>` naming the event. A 2xx marks it delivered; anything else, or no answer, is tried
again after a backoff that doubles up to an hour, for as long as it takes. Events are taken one at a time,
locked with SKIP LOCKED, so several workers never send one event at once; one sent whose answer was lost
is sent again with the same Request-Id, by which a receiver knows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import timedelta

import asyncpg
import httpx

from market.core.leadership import Leadership
from market.core.settings import Settings
from market.orders import order_events
from market.protocols import idempotency_store
from market.protocols.acp import order_payload
from market.protocols.idempotency import RETAINED_FOR

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
MAX_BACKOFF = timedelta(hours=1)
_PRUNE_EVERY = 3600 / POLL_SECONDS  # polls between two prunings of expired idempotency keys


def signature(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


async def deliver_due(pool: asyncpg.Pool, client: httpx.AsyncClient, settings: Settings) -> int:
    """Deliver the events due now, one by one; returns how many were tried."""
    tried = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await order_events.due(conn, 1)
            if not rows:
                return tried
            event = rows[0]
            tried += 1
            error = await _send(conn, client, event, settings)
            if error is None:
                await order_events.delivered(conn, event["id"])
            else:
                backoff = min(timedelta(seconds=2 ** min(event["attempts"], 12)), MAX_BACKOFF)
                log.warning(
                    "order event %s to %s failed (%s); again in %s",
                    event["id"],
                    event["webhook_url"],
                    error,
                    backoff,
                )
                await order_events.failed(conn, event["id"], error, backoff)


async def run(pool: asyncpg.Pool, settings: Settings, leadership: Leadership | None = None) -> None:
    """Deliver forever; of several worker processes only the leader does. Also forgets idempotency keys
    past their retention now and then."""
    polls = 0
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if leadership is not None and not leadership.held:
                continue
            try:
                await deliver_due(pool, client, settings)
                polls += 1
                if polls % _PRUNE_EVERY == 0:
                    async with pool.acquire() as conn:
                        await idempotency_store.prune(conn, RETAINED_FOR * 2)
            except Exception:  # the loop must outlive any one failure (a database away, a bad row)
                log.exception("delivering order events failed; trying again")


async def _send(conn: asyncpg.Connection, client: httpx.AsyncClient, event, settings: Settings) -> str | None:
    """None when the agent's webhook took the event, else why not."""
    snapshot = await order_events.snapshot(conn, event["order_id"])
    if snapshot is None:
        return "order not found"
    body = order_payload.order_event(event["kind"], snapshot, str(event["checkout_session_id"]), settings)
    headers = {
        "Content-Type": "application/json",
        "Merchant-Signature": signature(event["webhook_secret"], body, int(time.time())),
        "Request-Id": f"evt_{event['id']}",
    }
    try:
        answer = await client.post(event["webhook_url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if answer.is_success else f"HTTP {answer.status_code}"
