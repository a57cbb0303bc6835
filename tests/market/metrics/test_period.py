"""Periods: what `since` and `until` mean, and the 400s a client gets for values that mean nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market.core.errors import DomainError, InvalidInput
from market.metrics.period import bucket_bounds, bucket_starts, parse_bucket, parse_period
from market.metrics.schemas import Period

NOW = datetime(2024, 5, 15, 12, 30, tzinfo=UTC)


def test_defaults_are_the_28_days_up_to_now():
    assert parse_period(None, None, NOW) == Period(since=datetime(2024, 4, 17, 12, 30, tzinfo=UTC), until=NOW)


def test_a_date_is_the_start_of_that_utc_day_and_naive_times_are_utc():
    period = parse_period("2024-05-01", "2024-05-08T06:00", NOW)
    assert period.since == datetime(2024, 5, 1, tzinfo=UTC)
    assert period.until == datetime(2024, 5, 8, 6, tzinfo=UTC)


def test_times_with_an_offset_are_converted_to_utc():
    period = parse_period("2024-05-01T02:00:00+02:00", "2024-05-02T00:00:00Z", NOW)
    assert period.since == datetime(2024, 5, 1, 0, tzinfo=UTC)


def test_only_since_runs_to_now():
    assert parse_period("2024-05-10", None, NOW).until == NOW


@pytest.mark.parametrize(
    ("since", "until", "where"),
    [
        ("yesterday", None, "query.since"),
        ("2024-05-01", "2024-13-01", "query.until"),
        ("2024-05-08", "2024-05-01", "query.since"),  # since after until
        ("2024-05-01", "2024-05-01", "query.since"),  # an empty period
        ("2023-01-01", "2024-05-01", "query.since"),  # longer than 366 days
    ],
)
def test_bad_periods_are_400s_naming_the_parameter(since, until, where):
    with pytest.raises(DomainError) as caught:
        parse_period(since, until, NOW)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.where == where


def test_bucket_names():
    assert parse_bucket(None) == "day"
    assert parse_bucket("week") == "week"
    with pytest.raises(DomainError) as caught:
        parse_bucket("month")
    assert caught.value.where == "query.bucket"


def test_day_buckets_are_clipped_to_the_period():
    period = parse_period("2024-05-01T12:00", "2024-05-03T06:00", NOW)
    assert bucket_starts(period, "day") == [
        datetime(2024, 5, 1, 12, tzinfo=UTC),
        datetime(2024, 5, 2, tzinfo=UTC),
        datetime(2024, 5, 3, tzinfo=UTC),
    ]
    assert bucket_bounds(period, "day")[-1] == Period(datetime(2024, 5, 3, tzinfo=UTC), period.until)


def test_weeks_start_on_monday():
    # 2024-05-01 is a Wednesday; the next ISO weeks begin on Mondays 6 and 13 May.
    period = parse_period("2024-05-01", "2024-05-14", NOW)
    assert bucket_starts(period, "week") == [
        datetime(2024, 5, 1, tzinfo=UTC),
        datetime(2024, 5, 6, tzinfo=UTC),
        datetime(2024, 5, 13, tzinfo=UTC),
    ]


async def test_known_history_loads(known_history, db):
    assert await db.fetchval("SELECT count(*) FROM ledger_entries") > 0
    assert len(known_history.products) == 4
