"""Who may call what: the operator token, the metrics token, a seller's API key and an outside agent's
token, read from `Authorization: Bearer <token>`.

The guards here need nothing but the app's state; which seller a key belongs to is the sellers' business
(`sellers.accounts.authenticate`), which the app provides to routes as the `principal` dependency.
"""

from __future__ import annotations

import secrets

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from market.core.errors import Unauthenticated

# The OpenAPI security requirement of routes that take a seller's key.
SELLER_KEY = [{"SellerKey": []}]


def require_bearer(connection: ASGIConnection, expected: str, *, code: str, message: str) -> None:
    """Pass if the request carries `expected` as its bearer token; otherwise a 401 naming the header."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthenticated(code, message, where="header.Authorization")


def operator_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Operator routes need `Authorization: Bearer <operator token>`."""
    require_bearer(
        connection,
        connection.app.state.operator_token,
        code="invalid_operator_token",
        message="Operator routes need 'Authorization: Bearer <operator token>'.",
    )


def metrics_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """With `metrics_token` set, a scrape needs `Authorization: Bearer <it>`; unset, /metrics is open, as
    Prometheus expects (keep it off the public network then)."""
    expected = connection.app.state.settings.metrics_token
    if expected is not None:
        require_bearer(
            connection,
            expected,
            code="invalid_metrics_token",
            message="/metrics needs 'Authorization: Bearer <metrics token>'.",
        )


def seller_key(connection: ASGIConnection) -> str:
    """The API key a seller sent as `Authorization: Bearer <key>`; a 401 saying how to send one if none."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "missing_api_key",
            "Send your API key as 'Authorization: Bearer <key>'.",
            where="header.Authorization",
        )
    return token.strip()


# The OpenAPI security requirement of the checkout protocols' routes, which an outside agent calls.
AGENT_TOKEN = [{"AgentToken": []}]


def agent_token(connection: ASGIConnection) -> str:
    """The token an outside agent sent as `Authorization: Bearer <token>`; a 401 saying how if none."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "missing_agent_token",
            "Send the agent token the operator issued as 'Authorization: Bearer <token>'.",
            where="header.Authorization",
        )
    return token.strip()
