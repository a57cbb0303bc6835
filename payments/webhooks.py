"""Stripe's webhook events: proving that one really comes from Stripe, and handling each only once.

Anyone can POST to the webhook route, so nothing in a body is believed before its `Stripe-Signature`
header is checked against the endpoint's secret (HMAC-SHA256 of "timestamp.body", by the SDK's own
verifier). A genuine signature dated outside the tolerance is refused too, whichever way: an old one so
that a captured request cannot be replayed later, and one dated ahead of this server's clock because the
SDK's check alone would let it through (it looks only for old signatures), and such a request could be
replayed for as long as its date lies ahead.
Stripe delivers at least once, so the event id is recorded and a second delivery is recognised.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import stripe

from payments import store

DEFAULT_TOLERANCE_SECONDS = 300

RejectionReason = Literal[
    "missing_signature", "bad_signature", "stale_signature", "future_signature", "malformed_payload"
]


class WebhookRejected(Exception):
    """The request is not a genuine, fresh, well-formed Stripe event; `reason` says which of those fails."""

    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def verify(
    payload: bytes, signature_header: str | None, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> dict[str, Any]:
    """The event in `payload`, as a plain dict, once its signature proves it is Stripe's and recent.

    Raises WebhookRejected; ValueError when no secret is configured (a setup mistake, not the sender's).
    """
    if not secret:
        raise ValueError("no webhook signing secret is configured")
    if not signature_header:
        raise WebhookRejected("missing_signature", "The Stripe-Signature header is missing.")
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("malformed_payload", "The body is not UTF-8 text.") from None

    # First the signature alone (no tolerance), then its date, here: the SDK checks both in one call, says
    # which failed only in its message, and lets a date in the future pass.
    try:
        stripe.WebhookSignature.verify_header(body, signature_header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        raise WebhookRejected(
            "bad_signature", "The Stripe-Signature header does not match the body and the secret."
        ) from None
    ahead = _signed_at(signature_header) - int(time.time())
    if ahead < -tolerance:
        raise WebhookRejected("stale_signature", f"The signature is more than {tolerance} seconds old.")
    if ahead > tolerance:
        raise WebhookRejected(
            "future_signature", f"The signature is dated more than {tolerance} seconds ahead of this server."
        )

    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookRejected("malformed_payload", "The body is not JSON.") from None
    if not _looks_like_event(event):
        raise WebhookRejected("malformed_payload", "The body is not a Stripe event (id, type, created).")
    return event


async def record_once(conn: asyncpg.Connection, event: dict[str, Any]) -> bool:
    """Keep a verified event; True the first time its id is seen, False for a repeated delivery."""
    return await store.insert_stripe_event(
        conn,
        event_id=event["id"],
        type=event["type"],
        created=datetime.fromtimestamp(event["created"], UTC),
        payload=event,
    )


def _signed_at(signature_header: str) -> int:
    """The `t=` of a header whose signature was verified (so it has one, an integer)."""
    for item in signature_header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value)
    raise WebhookRejected("bad_signature", "The Stripe-Signature header has no time.")


def _looks_like_event(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and not isinstance(event.get("created"), bool)
    )
