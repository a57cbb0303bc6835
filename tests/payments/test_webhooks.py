"""Webhook events are believed only when signed by Stripe, at a time within the tolerance either way, and are
handled once per event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import asyncpg
import pytest

from payments.webhooks import WebhookRejected, record_once, verify

SECRET = "whsec_agora_tests"
EVENT = {
    "id": "evt_1QxYz",
    "object": "event",
    "type": "payment_intent.succeeded",
    "created": 1767225600,
    "data": {"object": {"id": "pi_1QxYz", "object": "payment_intent", "metadata": {"order_id": "o-1"}}},
}


def signed(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send: t=<unix time>,v1=HMAC-SHA256(secret, "t.payload")."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def rejection(payload: bytes, header: str | None) -> str:
    with pytest.raises(WebhookRejected) as rejected:
        verify(payload, header, SECRET)
    return rejected.value.reason


def test_a_payload_signed_like_stripe_is_accepted_as_a_plain_dict() -> None:
    payload = json.dumps(EVENT).encode()
    event = verify(payload, signed(payload), SECRET)
    assert event == EVENT and type(event) is dict


def test_a_header_with_several_signatures_is_accepted_when_one_matches() -> None:
    # Stripe signs with every secret of the endpoint while a secret is being rolled.
    payload = json.dumps(EVENT).encode()
    header = signed(payload)
    stale_secret = signed(payload, secret="whsec_old").split(",")[1]
    assert verify(payload, f"{header},{stale_secret}", SECRET)["id"] == EVENT["id"]


@pytest.mark.parametrize("header", [None, ""])
def test_a_request_without_a_signature_is_rejected(header: str | None) -> None:
    assert rejection(json.dumps(EVENT).encode(), header) == "missing_signature"


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    payload = json.dumps(EVENT).encode()
    assert rejection(payload, signed(payload, secret="whsec_someone_else")) == "bad_signature"


def test_a_tampered_body_is_rejected() -> None:
    payload = json.dumps(EVENT).encode()
    header = signed(payload)
    tampered = payload.replace(b"o-1", b"o-2")
    assert rejection(tampered, header) == "bad_signature"


def test_a_header_that_is_not_a_signature_is_rejected() -> None:
    assert rejection(json.dumps(EVENT).encode(), "not a signature") == "bad_signature"


def test_a_genuine_but_old_signature_is_rejected_as_stale() -> None:
    payload = json.dumps(EVENT).encode()
    assert rejection(payload, signed(payload, at=int(time.time()) - 301)) == "stale_signature"
    # Within the tolerance it is fine.
    assert verify(payload, signed(payload, at=int(time.time()) - 200), SECRET)["id"] == EVENT["id"]


def test_a_genuine_signature_dated_ahead_of_the_tolerance_is_rejected() -> None:
    payload = json.dumps(EVENT).encode()
    assert rejection(payload, signed(payload, at=int(time.time()) + 3600)) == "future_signature"
    assert rejection(payload, signed(payload, at=int(time.time()) + 301)) == "future_signature"
    # A clock a little ahead of this one is fine.
    assert verify(payload, signed(payload, at=int(time.time()) + 200), SECRET)["id"] == EVENT["id"]


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'{"id": "evt_1"}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_rejected_as_malformed(payload: bytes) -> None:
    assert rejection(payload, signed(payload)) == "malformed_payload"


def test_verifying_without_a_configured_secret_is_a_setup_error() -> None:
    payload = json.dumps(EVENT).encode()
    with pytest.raises(ValueError, match="secret"):
        verify(payload, signed(payload), "")


async def test_an_event_is_recorded_once(db: asyncpg.Connection) -> None:
    assert await record_once(db, EVENT) is True
    assert await record_once(db, EVENT) is False
    row = await db.fetchrow("SELECT type, created, payload::text AS payload FROM stripe_events")
    assert row["type"] == "payment_intent.succeeded"
    assert int(row["created"].timestamp()) == EVENT["created"]
    assert json.loads(row["payload"]) == EVENT
    assert await record_once(db, EVENT | {"id": "evt_other"}) is True
