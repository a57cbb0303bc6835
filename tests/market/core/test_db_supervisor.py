"""The embedded PostgreSQL's supervisor: a server found dead is started again, a failed start is tried again
after a wait that doubles, and only a process that leads does either. (Killing a real server under load is
tests/market/app/test_database_outage.py.)"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from market.core import db, db_supervisor

DEADLINE_SECONDS = 10.0


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        await asyncio.sleep(0.01)


class FakeServer:
    """A server that is down until started; its first `failures` starts fail."""

    def __init__(self, failures: int = 0) -> None:
        self.running = False
        self.failures = failures
        self.starts: list[float] = []

    def start(self, pgdata: Path) -> str:
        self.starts.append(time.monotonic())
        if len(self.starts) <= self.failures:
            raise RuntimeError("shared memory still in use")
        self.running = True
        return "postgresql://postgres:@/postgres"


@pytest.fixture
def server(monkeypatch) -> FakeServer:
    fake = FakeServer(failures=2)
    monkeypatch.setattr(db, "start_embedded_postgres", fake.start)
    monkeypatch.setattr(db_supervisor, "server_running", lambda pgdata: fake.running)
    return fake


async def supervising(pgdata: Path, leads: Callable[[], bool]) -> asyncio.Task:
    return asyncio.create_task(
        db_supervisor.supervise(pgdata, leads, check_seconds=0.01, first_retry_seconds=0.1)
    )


async def _stopped(task: asyncio.Task) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_dead_server_is_started_again_and_a_failed_start_waits_longer_each_time(server, tmp_path):
    task = await supervising(tmp_path, lambda: True)
    try:
        await until(lambda: server.running, "the server started again")
    finally:
        await _stopped(task)

    first, second, third = server.starts
    assert second - first >= 0.1 and third - second >= 0.2  # the wait doubles after each failed start


async def test_only_the_process_that_leads_starts_it(server, tmp_path):
    asked = []
    leading = False

    def leads() -> bool:
        asked.append(leading)
        return leading

    task = await supervising(tmp_path, leads)
    try:
        await until(lambda: len(asked) >= 20, "twenty looks")
        assert server.starts == []
        leading = True
        await until(lambda: server.running, "started once this process leads")
    finally:
        await _stopped(task)


def test_a_server_is_running_only_while_its_pid_file_names_a_live_postgres(tmp_path):
    assert not db_supervisor.server_running(tmp_path)  # no pid file: stopped cleanly, or never started

    (tmp_path / "postmaster.pid").write_text(f"{psutil.Process().pid}\n{tmp_path}\n")
    assert not db_supervisor.server_running(tmp_path)  # alive, but not a PostgreSQL server

    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "postmaster.pid").write_text(f"{gone.pid}\n{tmp_path}\n")
    assert not db_supervisor.server_running(tmp_path)


def test_a_dead_server_left_a_zombie_of_this_process_is_reaped(tmp_path):
    child = subprocess.Popen(["true"])  # dies at once, and stays a zombie until its parent reaps it
    deadline = time.monotonic() + DEADLINE_SECONDS
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child did not end"
        time.sleep(0.01)
    (tmp_path / "postmaster.pid").write_text(f"{child.pid}\n{tmp_path}\n")

    assert not db_supervisor.server_running(tmp_path)
    assert not psutil.pid_exists(child.pid)  # reaped: PostgreSQL can start beside its pid file again
    child.returncode = 0  # already reaped: Popen must not wait for it again
