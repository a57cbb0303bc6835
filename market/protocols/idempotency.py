"""Idempotent POSTs, as the checkout protocols define them (ACP's RFC, section 6; UCP alike): every POST
carries an `Idempotency-Key`, and

- the same key with the same body gets the first answer again, with its status, for at least 24 hours
  (`Idempotent-Replayed: true`), without doing anything twice;
- the same key with another body is a 422 `idempotency_conflict`;
- the same key while its first request is still being answered is a 409 `idempotency_in_flight` with
  `Retry-After`;
- a 5xx answer is not kept: asking again with the key is a new request.

Keys are scoped to who asks (a hash of their credential) and the endpoint's path. Bodies are compared as
JSON values (key order and `1.0` against `1` do not matter; array order and null against absent do).

An ASGI middleware, put on the routes that need it (`middleware=[IdempotencyMiddleware]`): it sees the
whole answer, errors included, as the client will. It needs the app's `state.pool`.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import msgspec
from litestar.datastructures import Headers
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from market.core.errors import Conflict, DomainError, InFlight, InvalidInput, Unprocessable
from market.protocols import idempotency_store

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETAINED_FOR = timedelta(hours=24)
# A request that has not answered in this long is taken to have died with its process.
IN_FLIGHT_FOR = timedelta(seconds=60)
RETRY_AFTER_MAX = 5
# Headers of an answer that are the answer's own and not kept with it.
_NOT_KEPT = {b"content-length", b"date", b"server", b"idempotent-replayed", b"idempotency-key"}


class IdempotencyMiddleware:
    # The methods whose requests carry a key, and the error a key reused with another body answers (UCP,
    # which also keys its PUTs, says 409: `ConflictingIdempotencyMiddleware` below).
    methods: frozenset[str] = frozenset({"POST"})
    conflict: type[DomainError] = Unprocessable

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def who(self, headers: Headers) -> str:
        """Whose keys these are: whoever holds the request's credential."""
        return _who(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        key = _key(headers)
        body, receive = await _buffered(receive)
        owner = f"{self.who(headers)}:{scope['path']}"
        fingerprint = request_fingerprint(body)
        pool = scope["app"].state.pool
        async with pool.acquire() as conn:
            if not await idempotency_store.claim(
                conn, owner, key, fingerprint, in_flight_for=IN_FLIGHT_FOR, retained_for=RETAINED_FOR
            ):
                held = await idempotency_store.held(conn, owner, key)
                if held is not None:
                    await _answer_held(held, fingerprint, key, send, self.conflict)
                    return
                # Released between the two statements (its request failed with a 5xx): ours now.
                await idempotency_store.claim(
                    conn, owner, key, fingerprint, in_flight_for=IN_FLIGHT_FOR, retained_for=RETAINED_FOR
                )
        await self._run_and_keep(scope, receive, send, pool, owner, key)

    async def _run_and_keep(
        self, scope: Scope, receive: Receive, send: Send, pool, owner: str, key: str
    ) -> None:
        """Run the request, and keep its answer before the client has it: a retry that follows the answer
        at once must find it kept, not still in flight."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        settled = False

        async def keeping(message: Message) -> None:
            nonlocal settled
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await _settle(pool, owner, key, start, b"".join(chunks))
            settled = True
            await send({**start, "headers": [*start.get("headers", []), _echo(key)]})
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, receive, keeping)
        finally:
            if not settled:  # no whole answer: the key is free for a fresh try
                async with pool.acquire() as conn:
                    await idempotency_store.release(conn, owner, key)


async def _settle(pool, owner: str, key: str, start: dict[str, Any], body: bytes) -> None:
    """Keep the answer under the key; a 5xx is not kept, and the key is freed instead."""
    status = start.get("status", 500)
    async with pool.acquire() as conn:
        if status >= 500:
            await idempotency_store.release(conn, owner, key)
            return
        kept = [
            [name.decode("latin-1"), value.decode("latin-1")]
            for name, value in start.get("headers", [])
            if name.lower() not in _NOT_KEPT
        ]
        await idempotency_store.answer(conn, owner, key, status, kept, body)


class ConflictingIdempotencyMiddleware(IdempotencyMiddleware):
    """UCP's rules: POST and PUT carry keys, and a key reused with another body is a 409."""

    methods = frozenset({"POST", "PUT"})
    conflict = Conflict

    def who(self, headers: Headers) -> str:
        # The platform (its profile and version, in UCP-Agent) is part of who asks: the same key sent by
        # another platform, or in another version whose answer has another shape, is another request.
        platform = hashlib.sha256(headers.get("ucp-agent", "").encode()).hexdigest()[:16]
        return f"{_who(headers)}:{platform}"


def request_fingerprint(body: bytes) -> bytes:
    """SHA-256 of the body as a JSON value (keys sorted, whole floats as integers); of the bytes when the
    body is not JSON."""
    try:
        value = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        return hashlib.sha256(b"raw:" + body).digest()
    return hashlib.sha256(b"json:" + msgspec.json.encode(_normal(value), order="sorted")).digest()


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _normal(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_normal(inner) for inner in value]
    return value


def _key(headers: Headers) -> str:
    key = headers.get(HEADER.lower(), "")
    if not key:
        raise InvalidInput(
            "idempotency_key_required",
            f"The {HEADER} header is required on every POST (a UUID is a good key).",
            where=f"header.{HEADER}",
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.invalid(f"header.{HEADER}", f"at most {MAX_KEY_LENGTH} printable characters")
    return key


def _who(headers: Headers) -> str:
    # Whoever holds this credential; a hash, so the table never holds a token.
    return hashlib.sha256(headers.get("authorization", "").encode()).hexdigest()[:32]


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it to the app as if it had not been read."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


async def _answer_held(held, fingerprint: bytes, key: str, send: Send, conflict: type[DomainError]) -> None:
    if bytes(held["request_hash"]) != fingerprint:
        raise conflict(
            "idempotency_conflict",
            f"This {HEADER} was already used with a different request body.",
            where=f"header.{HEADER}",
        )
    if held["status"] is None:
        raise InFlight(
            "idempotency_in_flight",
            f"A request with this {HEADER} is still being processed; retry after a moment.",
            retry_after=min(held["retry_after"], RETRY_AFTER_MAX),
            where=f"header.{HEADER}",
        )
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in held["headers"]]
    headers += [(b"idempotent-replayed", b"true"), _echo(key)]
    await send({"type": "http.response.start", "status": held["status"], "headers": headers})
    await send({"type": "http.response.body", "body": bytes(held["body"])})


def _echo(key: str) -> tuple[bytes, bytes]:
    return (b"idempotency-key", key.encode("latin-1"))
