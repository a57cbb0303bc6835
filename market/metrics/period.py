"""The time span a figure covers, read once from a request's or a command's `since` / `until`.

Every figure of the market is over a half-open UTC period [since, until): a day's figures and the next
day's never count the same row twice, and buckets of a time series add up to the period. Dates and times
without a timezone are UTC, because the ledger and the event log are stored in UTC and an operator
comparing numbers with SQL should not have to guess which midnight a date meant.

A date alone means the start of that day: `until=2024-05-08` stops at 2024-05-08T00:00Z, so
`since=2024-05-01&until=2024-05-08` is exactly the seven days of 1-7 May.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from market.core.errors import InvalidInput
from market.metrics.schemas import Bucket, Period

DEFAULT_SPAN = timedelta(days=28)
# Longer ranges are refused: a year is the most a dashboard draws, and an unbounded range would let one
# request scan the whole event log.
MAX_SPAN = timedelta(days=366)
BUCKETS: tuple[Bucket, ...] = ("day", "week")


def parse_period(since: str | None, until: str | None, now: datetime | None = None) -> Period:
    """The period a request asks for: `until` defaults to now, `since` to 28 days before `until`.

    Raises DomainError (400) naming `query.since` or `query.until` when a value is not an ISO date or
    datetime, when since is not before until, or when the range is longer than 366 days.
    """
    end = _parse_instant(until, "query.until") if until else _utc(now or datetime.now(UTC))
    start = _parse_instant(since, "query.since") if since else end - DEFAULT_SPAN
    if start >= end:
        raise InvalidInput.invalid(
            "query.since", f"since ({start.isoformat()}) must be before until ({end.isoformat()})."
        )
    if end - start > MAX_SPAN:
        raise InvalidInput.invalid(
            "query.since",
            f"The period from {start.isoformat()} to {end.isoformat()} is longer than "
            f"{MAX_SPAN.days} days; ask for a shorter one.",
        )
    return Period(since=start, until=end)


def parse_bucket(value: str | None) -> Bucket:
    """`day` (the default) or `week`; anything else is a 400 naming `query.bucket`."""
    if value is None or value == "day":
        return "day"
    if value == "week":
        return "week"
    raise InvalidInput.invalid("query.bucket", f"bucket must be 'day' or 'week', not {value!r}.")


def bucket_floor(instant: datetime, bucket: Bucket) -> datetime:
    """The start of the UTC day, or of the ISO week (Monday 00:00 UTC), that holds `instant`."""
    day = _utc(instant).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def bucket_starts(period: Period, bucket: Bucket) -> list[datetime]:
    """Where each bucket of the period begins, clipped to it: the first is `since` itself, the others
    are day or week boundaries inside the period. Bucket i is [starts[i], starts[i+1] or until)."""
    step = timedelta(days=7 if bucket == "week" else 1)
    starts = [period.since]
    boundary = bucket_floor(period.since, bucket) + step
    while boundary < period.until:
        starts.append(boundary)
        boundary += step
    return starts


def bucket_bounds(period: Period, bucket: Bucket) -> list[Period]:
    """Each bucket as its own period, in order, together covering `period` exactly."""
    starts = bucket_starts(period, bucket)
    return [Period(since=start, until=end) for start, end in zip(starts, [*starts[1:], period.until])]


def bucket_sql(column: str, bucket: Bucket | None) -> str:
    """SQL for the start of the bucket a row falls in, clipped to the period's start, which the query must
    pass as $1; with no bucket, the period's start itself (the whole period is one bucket)."""
    if bucket is None:
        return "$1::timestamptz"
    if bucket not in BUCKETS:  # it is spliced into SQL, so only the two known words may pass
        raise ValueError(f"unknown bucket {bucket!r}")
    return f"greatest(date_trunc('{bucket}', {column}, 'UTC'), $1::timestamptz)"


def _parse_instant(value: str, where: str) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:  # a date alone: the start of that day
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        raise InvalidInput.invalid(
            where,
            f"{value!r} is not an ISO date or datetime (e.g. 2024-05-01 or 2024-05-01T12:00:00Z).",
        ) from None


def _utc(instant: datetime) -> datetime:
    """Naive times are UTC; aware ones are converted to UTC."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
