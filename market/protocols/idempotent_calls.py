"""Idempotency for calls that are not HTTP requests (MCP tools): the same rules and the same table as
`idempotency` (a key with the same arguments answers the first answer again for 24 hours, another set of
arguments with it is refused, a call still running is `idempotency_in_flight`), applied around a function.

A call that fails is not kept: calling again with its key runs it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from market.core.errors import Conflict, InFlight, InvalidInput
from market.protocols import idempotency_store
from market.protocols.idempotency import (
    IN_FLIGHT_FOR,
    MAX_KEY_LENGTH,
    RETAINED_FOR,
    RETRY_AFTER_MAX,
    request_fingerprint,
)


async def once(
    pool: asyncpg.Pool,
    scope: str,
    key: str,
    arguments: Any,
    run: Callable[[], Awaitable[dict[str, Any]]],
    *,
    where: str = "meta.idempotency-key",
) -> dict[str, Any]:
    """`run()`'s answer, or the answer kept for `key` in `scope` when these `arguments` came with it before."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.invalid(where, f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable characters")
    fingerprint = request_fingerprint(msgspec.json.encode(arguments))
    async with pool.acquire() as conn:
        claimed = await idempotency_store.claim(
            conn, scope, key, fingerprint, in_flight_for=IN_FLIGHT_FOR, retained_for=RETAINED_FOR
        )
        if not claimed:
            held = await idempotency_store.held(conn, scope, key)
            if held is not None:
                if bytes(held["request_hash"]) != fingerprint:
                    raise Conflict(
                        "idempotency_conflict",
                        "This idempotency key was already used with other arguments.",
                        where=where,
                    )
                if held["status"] is None:
                    raise InFlight(
                        "idempotency_in_flight",
                        "A call with this idempotency key is still running; try again in a moment.",
                        retry_after=min(held["retry_after"], RETRY_AFTER_MAX),
                        where=where,
                    )
                return msgspec.json.decode(bytes(held["body"]))
            await idempotency_store.claim(
                conn, scope, key, fingerprint, in_flight_for=IN_FLIGHT_FOR, retained_for=RETAINED_FOR
            )
    try:
        answer = await run()
    except BaseException:
        async with pool.acquire() as conn:
            await idempotency_store.release(conn, scope, key)
        raise
    async with pool.acquire() as conn:
        await idempotency_store.answer(conn, scope, key, 200, [], msgspec.json.encode(answer))
    return answer
