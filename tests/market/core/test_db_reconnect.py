"""The pool's connections while the database does not answer: each attempt that fails says
`DatabaseUnavailable`, attempts are spaced by a backoff (the calls in between fail at once), and the first
connection that succeeds ends it. A database that answers but refuses (a wrong name) is no outage."""

from __future__ import annotations

import socket

import asyncpg
import pytest

from market.core import db
from market.core.errors import DatabaseUnavailable
from tests.conftest import with_database


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def attempts(monkeypatch) -> list[str]:
    """Every connection attempt; each is refused until the list holds "answer"."""
    made: list[str] = []

    async def connect(*args, **kwargs):
        made.append("attempt")
        if "answer" in made:
            return "a connection"
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(asyncpg, "connect", connect)
    return made


async def test_one_attempt_per_backoff_interval_while_the_database_is_away(attempts):
    clock = Clock()
    reconnect = db.Reconnect(first_wait=0.25, longest_wait=2.0, clock=clock)

    outcomes = []
    for step in [0.0, 0.1, 0.15, 0.3, 0.5, 0.8, 1.0, 2.0, 2.0, 2.0, 2.0]:
        clock.now += step
        with pytest.raises(DatabaseUnavailable) as refused:
            await reconnect("postgresql://db/agora")
        outcomes.append((len(attempts), refused.value.retry_after))

    assert outcomes == [
        (1, 1),  # refused: the next attempt in 0.25 s
        (1, 1),  # 0.1 s later: no attempt, it fails at once
        (2, 1),  # 0.25 s after the first: attempted again; the next in 0.5 s
        (2, 1),
        (3, 1),  # the next in 1 s
        (3, 1),
        (4, 2),  # the next in 2 s, the longest wait
        (5, 2),
        (6, 2),
        (7, 2),
        (8, 2),
    ]
    assert isinstance(refused.value.__cause__, ConnectionRefusedError)
    for _ in range(2000):  # an outage of an hour or more: the wait stays the longest one
        clock.now += 2.0
        with pytest.raises(DatabaseUnavailable):
            await reconnect("postgresql://db/agora")
    assert len(attempts) == 2008

    attempts.append("answer")
    clock.now += 2.0
    assert await reconnect("postgresql://db/agora") == "a connection"
    assert reconnect.failures == 0  # the backoff is over: the next failure starts from the first wait


async def test_a_pool_to_a_server_that_is_not_there_says_database_unavailable(settings):
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(DatabaseUnavailable):
            await db.create_pool(f"postgresql://agora@127.0.0.1:{port}/agora", settings)


async def test_a_database_that_answers_but_refuses_is_no_outage(server_url, settings):
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await db.create_pool(with_database(server_url, "no_such_database"), settings)
