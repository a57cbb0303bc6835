"""The embedded PostgreSQL's supervisor: a server found dead is started again, a failed start is tried again
after a wait that doubles, and only a process that leads does either. (Killing a real server under load is
tests/market/app/test_database_outage.py.) Of several processes, the one holding the supervision lock
supervises; when it dies, however it dies, another takes over, with or without the database.)"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from market.core import db, db_supervisor

DEADLINE_SECONDS = 10.0
ROOT = Path(__file__).resolve().parents[3]
# Another process of the service, holding the supervision lock until it is killed.
HOLDER = """
import sys
from pathlib import Path
from market.core.db_supervisor import SupervisionLock
assert SupervisionLock(Path(sys.argv[1])).held()
print("supervising", flush=True)
sys.stdin.read()
"""


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


def test_a_start_the_server_refuses_is_one_to_try_again(tmp_path, monkeypatch):
    # While a killed server's processes still hold its shared memory, PostgreSQL does not start and
    # embedded-postgres fails its own assertion: callers retry on RuntimeError, so that is what they get.
    def refused(pgdata: Path) -> str:
        raise AssertionError

    monkeypatch.setattr(db, "start_embedded_postgres", refused)
    with pytest.raises(RuntimeError, match="not gone yet"):
        db_supervisor.start_again(tmp_path)


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


@pytest.fixture
def holder(tmp_path) -> Iterator[subprocess.Popen]:
    """Another process supervising the embedded server of `tmp_path / "postgres"`, until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "postgres")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout.readline() == b"supervising\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
        process.stdout.close()


def killed(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


async def test_when_the_supervising_process_is_killed_another_takes_over_and_starts_the_server(
    server, holder, tmp_path
):
    pgdata = tmp_path / "postgres"
    this_process = db_supervisor.SupervisionLock(pgdata)
    try:
        assert not this_process.held()
        assert not db_supervisor.SupervisionLock(pgdata).held()  # nor anyone else while it lives

        await asyncio.to_thread(killed, holder)  # e.g. the leader worker, during a database outage

        task = await supervising(pgdata, this_process.held)
        try:
            await until(lambda: server.running, "the server started again by the process that took over")
        finally:
            await _stopped(task)
        assert this_process.held()
    finally:
        this_process.release()


def test_a_released_supervision_lock_is_taken_by_the_next_process_to_look(tmp_path):
    first, second = db_supervisor.SupervisionLock(tmp_path), db_supervisor.SupervisionLock(tmp_path)
    assert first.held() and first.held()  # kept once taken
    assert not second.held()

    first.release()  # a worker that stops

    assert second.held()
    second.release()
