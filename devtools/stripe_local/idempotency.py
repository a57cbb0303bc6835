"""Idempotency keys for every POST route, as api.stripe.com honours them.

The stripe SDK puts an ``Idempotency-Key`` on each POST and reuses it when it retries, so a replay must get
the first answer back, not a second object. Answers are kept per API key and idempotency key; 5xx and
authentication failures are not kept, since those requests did not run.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from aiohttp import web
from localstripe.errors import json_response

_KEPT_HEADERS = ("Content-Type", "Location")


@dataclass(frozen=True)
class _Answer:
    fingerprint: str
    status: int
    headers: dict[str, str]
    body: bytes


_answers: dict[tuple[str, str], _Answer] = {}
_locks: dict[tuple[str, str], asyncio.Lock] = {}


def clear() -> None:
    _answers.clear()
    _locks.clear()


def _mismatch(key: str) -> web.Response:
    error = {
        "type": "idempotency_error",
        "code": None,
        "param": None,
        "message": "Keys for idempotent requests can only be used with the same parameters they were first"
        f" used with. Try using a key other than '{key}' if you meant to execute a different request.",
    }
    return json_response({"error": error}, status=400, headers={"Idempotency-Key": key})


@web.middleware
async def idempotency_middleware(request: web.Request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    scope = (request.headers.get("Authorization", ""), key)
    body = await request.read()  # aiohttp caches the body, handlers can still read it
    fingerprint = hashlib.sha256(request.path_qs.encode() + b"\0" + body).hexdigest()
    lock = _locks.setdefault(scope, asyncio.Lock())
    async with lock:  # a concurrent retry waits for the first answer instead of running twice
        answer = _answers.get(scope)
        if answer is not None:
            if answer.fingerprint != fingerprint:
                return _mismatch(key)
            headers = {**answer.headers, "Idempotency-Key": key, "Idempotent-Replayed": "true"}
            return web.Response(status=answer.status, body=answer.body, headers=headers)
        response = await handler(request)
        ran = response.status < 500 and response.status != 401
        if ran and isinstance(response, web.Response) and isinstance(response.body, bytes | None):
            headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
            _answers[scope] = _Answer(fingerprint, response.status, headers, response.body or b"")
        response.headers["Idempotency-Key"] = key
        return response
