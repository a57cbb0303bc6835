"""Which process of the service does the work that must happen once: the leader.

With several worker processes (AGORA_WORKERS), each serves requests with its own matching engine, but some
work is the service's, not a process's: embedding the whole catalog on a cold start, writing the saved
vector index, sweeping lapsed orders. The leader is whichever process holds a PostgreSQL advisory lock,
on a connection of its own kept for that purpose; the lock goes with the connection, so if the leader dies
or loses the database, another process takes it over at its next look (`keep`). A process serving alone
is its own leader and never asks the database.

While the database is down nobody holds the lock. Starting the embedded server again, the one work that
needs no database, is handed out by a file lock instead (`market.core.db_supervisor.SupervisionLock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from market.core.db import CONNECT_TIMEOUT_SECONDS, DATABASE_ERRORS

log = logging.getLogger(__name__)
# An arbitrary constant shared by every Agora process, distinct from the keys of the other advisory locks:
# migrate.MIGRATION_LOCK_KEY (0x4A60_0001) and sellers.store.CHANGE_FEED_LOCK_KEY (0x4A60_0002).
LEADER_LOCK_KEY = 0x4A60_0003


class Leadership:
    def __init__(self, database_url: str | None = None, *, look_every_seconds: float = 2.0) -> None:
        """`database_url` None: a process serving alone, the leader from the start."""
        self._url = database_url
        self.look_every_seconds = look_every_seconds
        self._conn: asyncpg.Connection | None = None
        self.held = database_url is None

    @property
    def alone(self) -> bool:
        return self._url is None

    async def claim(self) -> bool:
        """Take the lead if no other process holds it; True if this process leads (now or already)."""
        if self.alone:
            return True
        if self._conn is not None and not self._conn.is_closed():
            try:
                await self._conn.fetchval("SELECT 1")
                return self.held
            except DATABASE_ERRORS:
                log.warning("lost the database connection that held the lead")
                await self._close()
        try:
            self._conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_SECONDS)
            self.held = bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK_KEY))
        except DATABASE_ERRORS as exc:
            log.warning("cannot ask for the lead: %s", exc)
            await self._close()
            return False
        if self.held:
            log.info("this process leads the service")
        else:
            await self._close()  # another leads: no connection held for nothing
        return self.held

    async def keep(self) -> None:
        """After a first `claim`: look every few seconds, to keep the lead or take it over once its holder is
        gone."""
        while True:
            await asyncio.sleep(self.look_every_seconds)
            await self.claim()

    async def release(self) -> None:
        await self._close()
        self.held = self.alone

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        self.held = self.alone
        if conn is not None:
            with contextlib.suppress(*DATABASE_ERRORS):
                await conn.close(timeout=2)
