"""`agora mcp`: the MCP server over stdio, for an MCP client that starts its servers as processes (Claude
Desktop, the `mcp` CLI). The market runs in this process (database, search, payments), as `agora serve`
runs it, and the tools act as the agent whose token is given."""

from __future__ import annotations

import asyncio
import os

import click

from market.app.cli.common import database_url
from market.core.settings import Settings


@click.command()
@click.option(
    "--agent-token",
    default=None,
    help="The operator-issued agent token the tools act as [AGORA_MCP_AGENT_TOKEN; else AGORA_UCP_GUEST_AGENT_TOKEN].",
)
@click.pass_obj
def mcp(settings: Settings, agent_token: str | None) -> None:
    """Serve UCP's tools (catalog, checkout, orders) over MCP on stdin/stdout."""
    asyncio.run(serve_stdio(settings, agent_token or os.environ.get("AGORA_MCP_AGENT_TOKEN")))


async def serve_stdio(settings: Settings, agent_token: str | None) -> None:
    from market.app.asgi import create_app
    from market.protocols.ucp.mcp_server import Services, build_server

    app = create_app(settings, database_url(settings))
    # Standard output carries the protocol: the app's lifespan (database, search, payments) runs as under
    # `agora serve`, and whatever it reports goes to standard error.
    async with app.lifespan():
        server = build_server(Services(state=lambda: app.state, agent_token=agent_token))
        await server.run_stdio_async()
