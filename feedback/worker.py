"""The nightly retraining schedule: `agora worker` runs `feedback.retrain` at each time of a cron expression.

The schedule is a standard five-field cron expression in the server's local time (`AGORA_RETRAIN_CRON`,
default 03:00 every night), read by `croniter`. A run that fails is logged and the next one comes at its
time; a run that takes longer than the gap to the next time delays it rather than overlapping it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from croniter import croniter

log = logging.getLogger(__name__)


class CronError(ValueError):
    pass


def schedule(expression: str, start: datetime) -> croniter:
    """The run times of `expression` after `start` (naive local times)."""
    if not croniter.is_valid(expression):
        raise CronError(f"{expression!r} is not a five-field cron expression (e.g. '0 3 * * *')")
    return croniter(expression, start)


def next_run(expression: str, after: datetime) -> datetime:
    return schedule(expression, after).get_next(datetime)


async def run_forever(
    expression: str,
    job: Callable[[], Awaitable[object]],
    *,
    now: Callable[[], datetime] = datetime.now,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_result: Callable[[object], None] | None = None,
) -> None:
    """Run `job` at every time of `expression` until cancelled."""
    while True:
        due = next_run(expression, now())
        log.info("next retraining at %s", due.isoformat(timespec="minutes"))
        while (wait := (due - now()).total_seconds()) > 0:
            await sleep(min(wait, 60.0))  # in steps: a clock change or a suspended machine is noticed
        try:
            result = await job()
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed night must not stop the schedule
            log.exception("retraining failed; the next run is at its scheduled time")
            continue
        if on_result is not None:
            on_result(result)
