"""What the commands share: running a coroutine with a database pool, and errors as one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from market.core.settings import Settings

T = TypeVar("T")


def host_and_port(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--port", type=int, default=None, help="Port to listen on [AGORA_PORT, 8000].")(
        command
    )
    return click.option("--host", default=None, help="Address to listen on [AGORA_HOST, 127.0.0.1].")(command)


def reachable_base(settings: Settings) -> str:
    """Where a process on this machine reaches the server (a wildcard bind is reached on loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def database_url(settings: Settings) -> str:
    from market.core.db import database_url

    return database_url(settings)


async def with_pool(
    settings: Settings, url: str, work: Callable[..., Awaitable[T]], *, migrate: bool = False
) -> T:
    from market.core import db
    from market.core import migrate as migrations

    pool = await db.create_pool(url, settings)
    try:
        if migrate:
            async with pool.acquire() as conn:
                await migrations.upgrade(conn)
        return await work(pool)
    finally:
        await pool.close()


def run(coroutine: Awaitable[T]) -> T:
    from market.core.errors import DomainError
    from market.core.migrate import MigrationError
    from sellers.importer import MalformedBody

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except (MalformedBody, MigrationError) as exc:
        raise click.ClickException(str(exc)) from None


def offline_engine(settings: Settings):
    from ranking.embedder import embedder_from_settings
    from ranking.engine import MatchingEngine

    return MatchingEngine(embedder_from_settings(settings), exact_below=settings.exact_index_below)
