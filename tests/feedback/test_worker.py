"""The nightly schedule: a cron expression decides when retraining runs; a failed night does not stop it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from feedback.worker import CronError, next_run, run_forever


def test_the_default_schedule_runs_at_three_every_night() -> None:
    assert next_run("0 3 * * *", datetime(2026, 11, 29, 10, 0)) == datetime(2026, 11, 30, 3, 0)
    assert next_run("0 3 * * *", datetime(2026, 11, 29, 2, 59)) == datetime(2026, 11, 29, 3, 0)


def test_a_malformed_expression_is_refused_with_an_example() -> None:
    with pytest.raises(CronError, match="five-field cron expression"):
        next_run("every night", datetime(2026, 11, 29))


class FakeClock:
    """Time that moves only when the worker sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


async def test_runs_at_each_scheduled_time_and_goes_on_after_a_failure() -> None:
    clock = FakeClock(datetime(2026, 11, 29, 22, 0))
    ran_at: list[datetime] = []
    results: list[object] = []

    async def job() -> str:
        ran_at.append(clock.now)
        if len(ran_at) == 1:
            raise RuntimeError("the database went away")
        if len(ran_at) == 3:
            raise asyncio.CancelledError  # stop the test after the third night
        return f"night {len(ran_at)}"

    with pytest.raises(asyncio.CancelledError):
        await run_forever("0 3 * * *", job, now=clock, sleep=clock.sleep, on_result=results.append)

    assert ran_at == [datetime(2026, 11, 30, 3, 0), datetime(2026, 12, 1, 3, 0), datetime(2026, 12, 2, 3, 0)]
    assert results == ["night 2"]  # the failed first night reported nothing, the second its result
    assert max(clock.slept) <= 60.0  # waits in short steps, so a changed clock is noticed
