"""The one check behind every token-guarded route: `Authorization: Bearer <token>`, compared in constant time."""

from __future__ import annotations

import secrets

from litestar.connection import ASGIConnection

from market.core.errors import ApiError


def require_bearer(connection: ASGIConnection, expected: str, *, code: str, message: str) -> None:
    """Pass if the request carries `expected` as its bearer token; otherwise a 401 naming the header."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(
            401, code, message, where="header.Authorization", headers={"WWW-Authenticate": "Bearer"}
        )
