"""`agora events`: the event log."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import get_args

import click

from feedback.schemas import EventType
from market.app.cli.common import database_url, run, with_pool
from market.core.settings import Settings


@click.group()
def events() -> None:
    """The event log."""


def _moment(_: click.Context, parameter: click.Parameter, value: str | None):

    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2025-05-01T00:00:00Z)") from None


@events.command("export")
@click.option("--since", callback=_moment, help="From this time on (ISO 8601; without a zone, UTC).")
@click.option("--until", callback=_moment, help="Before this time (ISO 8601) [now].")
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(get_args(EventType)),
    help="Only events of this type; repeatable.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here [stdout]."
)
@click.pass_obj
def events_export(settings: Settings, since, until, types: tuple[str, ...], out: Path | None) -> None:
    """Write the event log as NDJSON, one event per line in (occurred_at, event_id) order, streamed from
    the database page by page; the same lines as GET /v1/operator/events."""
    from feedback import export

    async def write(pool) -> int:
        try:
            pages = export.ndjson_pages(pool, since=since, until=until, types=types)
        except export.ExportRangeError as exc:
            raise click.BadParameter(str(exc), param_hint="--since/--until") from None
        count = 0
        sink = out.open("wb") if out else sys.stdout.buffer
        try:
            async for chunk in pages:
                sink.write(chunk)
                count += chunk.count(b"\n")
        finally:
            sink.flush()
            if out:
                sink.close()
        return count

    count = run(with_pool(settings, database_url(settings), write, migrate=True))
    click.echo(f"exported {count} events" + (f" to {out}" if out else ""), err=True)
