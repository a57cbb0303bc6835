"""The MCP server (`market.protocols.ucp.mcp_server`) inside the HTTP app: streamable HTTP at `/mcp`.

Stateless, with JSON answers: any worker of the service answers any call, as with the REST routes, and
no session outlives a request. The session manager runs for the app's lifetime (`lifespan`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send
from mcp.server.transport_security import TransportSecuritySettings

from market.protocols.ucp.mcp_server import Services, build_server

PATH = "/mcp"


def mcp_mount() -> tuple[object, object]:
    """The route handler to list among the app's routes, and the lifespan to list among its lifespans."""
    holder: dict[str, Litestar] = {}
    server = build_server(Services(state=lambda: holder["app"].state))
    # Callers are agents with credentials, from anywhere: the DNS-rebinding guard meant for local servers
    # without authentication would refuse every host name but localhost.
    http_app = server.streamable_http_app(
        streamable_http_path="/",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    @asgi(PATH, is_mount=True, copy_scope=True, include_in_schema=False)
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await http_app(scope, receive, send)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        holder["app"] = app
        async with server.session_manager.run():
            yield

    return mcp_endpoint, lifespan
