"""The event log exported as NDJSON, by the operator API and by `agora events export`: every column, in
(occurred_at, event_id) order, filtered by time and type, read page by page without skipping or repeating
an event at a page boundary.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedback import export, store
from market.app.cli import main
from market.core import db as database
from tests.conftest import OPERATOR_TOKEN

EXPORT = "/v1/operator/events"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
TYPES = ("impression", "click", "add_to_cart", "purchase")


async def write_log(pool, count: int = 40) -> list[dict]:
    """`count` events, several sharing each timestamp (so that order needs event_id too); returns them as
    the export should show them, in export order."""
    written = []
    async with pool.acquire() as conn:
        for number in range(count):
            event = {
                "event_id": str(uuid.uuid4()),
                "type": TYPES[number % len(TYPES)],
                "occurred_at": T0 + timedelta(minutes=number // 3),
                "session_id": f"s-{number % 5}",
                "search_id": str(uuid.uuid4()),
                "product_id": 100 + number,
                "position": 1 + number % 7,
                "payload": {"number": number, "note": "line\nbreak", "amount": 1299, "currency": "USD"},
            }
            await store.insert_event(
                conn,
                **(
                    event
                    | {"event_id": uuid.UUID(event["event_id"]), "search_id": uuid.UUID(event["search_id"])}
                ),
            )
            written.append(event)
    return sorted(written, key=lambda event: (event["occurred_at"], event["event_id"]))


def lines(body: bytes) -> list[dict]:
    assert body.endswith(b"\n") or not body
    return [json.loads(line) for line in body.splitlines()]


def comparable(exported: list[dict]) -> list[dict]:
    """Exported lines as written: times parsed back, received_at (set by the database) checked and left out."""
    events = []
    for line in exported:
        assert datetime.fromisoformat(line.pop("received_at")).tzinfo is not None
        events.append(line | {"occurred_at": datetime.fromisoformat(line["occurred_at"])})
    return events


async def test_the_operator_exports_every_column_in_order_filtered_by_time_and_type(client, pool):
    log = await write_log(pool)
    assert (await client.get(EXPORT)).status_code == 401

    everything = await client.get(EXPORT, headers=OPERATOR)
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("application/x-ndjson")
    assert comparable(lines(everything.content)) == log

    since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=9)
    params = {"since": since.isoformat(), "until": until.isoformat(), "type": ["click", "purchase"]}
    some = await client.get(EXPORT, params=params, headers=OPERATOR)
    assert some.status_code == 200, some.text
    expected = [
        event
        for event in log
        if since <= event["occurred_at"] < until and event["type"] in ("click", "purchase")
    ]
    assert expected and comparable(lines(some.content)) == expected


async def test_a_large_log_streams_in_pages_with_nothing_skipped_or_repeated(client, pool, db):
    # More events than one page, many sharing a timestamp across the page boundary.
    await db.execute(
        """
        INSERT INTO events (event_id, type, occurred_at, product_id, payload)
        SELECT gen_random_uuid(), 'click', $1::timestamptz + (i / 500) * interval '1 second', i, '{}'
        FROM generate_series(1, $2::int) AS i
        """,
        T0,
        export.PAGE_SIZE + 700,
    )
    response = await client.get(EXPORT, headers=OPERATOR)
    exported = lines(response.content)
    keys = [(line["occurred_at"], line["event_id"]) for line in exported]
    assert len(exported) == export.PAGE_SIZE + 700
    assert len(set(keys)) == len(keys)
    assert [(datetime.fromisoformat(at), uuid.UUID(event_id)) for at, event_id in keys] == sorted(
        (datetime.fromisoformat(at), uuid.UUID(event_id)) for at, event_id in keys
    )


async def test_pages_are_read_one_at_a_time_and_join_up_exactly(pool):
    log = await write_log(pool, count=25)
    chunks = [chunk async for chunk in export.ndjson_pages(pool, page_size=4)]
    assert len(chunks) == 7  # one chunk per page read: ceil(25 / 4)
    assert comparable(lines(b"".join(chunks))) == log

    naive_since = (T0 + timedelta(minutes=3)).replace(tzinfo=None)  # no zone: taken as UTC
    later = [
        chunk async for chunk in export.ndjson_pages(pool, since=naive_since, types=["click"], page_size=2)
    ]
    assert comparable(lines(b"".join(later))) == [
        event
        for event in log
        if event["occurred_at"] >= T0 + timedelta(minutes=3) and event["type"] == "click"
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2025-05-02T00:00:00Z", "until": "2025-05-01T00:00:00Z"}, "since"),
        ({"type": "view"}, "type"),
        ({"since": "yesterday"}, "since"),
    ],
)
async def test_an_impossible_export_is_refused_before_anything_is_sent(client, params, field):
    response = await client.get(EXPORT, params=params, headers=OPERATOR)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == 400 and error["where"].endswith(f".{field}")


def test_the_command_line_writes_the_same_lines_to_a_file_or_stdout(database_url, settings, tmp_path: Path):
    async def prepare() -> list[dict]:
        pool = await database.create_pool(database_url, settings)
        try:
            return await write_log(pool, count=12)
        finally:
            await pool.close()

    log = asyncio.run(prepare())
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "AGORA_DATA_DIR": str(tmp_path / "data")}
    out = tmp_path / "clicks.ndjson"

    to_file = runner.invoke(
        main,
        ["events", "export", "--type", "click", "--since", "2025-05-01T12:01:00Z", "--out", str(out)],
        env=env,
    )
    assert to_file.exit_code == 0, to_file.output
    assert comparable(lines(out.read_bytes())) == [
        event
        for event in log
        if event["type"] == "click" and event["occurred_at"] >= T0 + timedelta(minutes=1)
    ]

    to_stdout = runner.invoke(main, ["events", "export"], env=env)
    assert to_stdout.exit_code == 0, to_stdout.output
    assert comparable(lines(to_stdout.stdout_bytes)) == log
    assert "exported 12 events" in to_stdout.stderr

    refused = runner.invoke(main, ["events", "export", "--since", "May 1st"], env=env)
    assert refused.exit_code == 2 and "ISO 8601" in refused.output
