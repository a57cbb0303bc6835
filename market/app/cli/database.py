"""`agora db`: the database schema."""

from __future__ import annotations

import click

from market.app.cli.common import database_url, run, with_pool
from market.core.settings import Settings


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply pending migrations (safe to run twice, or from two processes at once)."""
    from market.core import migrate

    async def upgrade(pool) -> list[migrate.Migration]:
        async with pool.acquire() as conn:
            return await migrate.upgrade(conn)

    applied = run(with_pool(settings, database_url(settings), upgrade))
    for migration in applied:
        click.echo(f"applied {migration.version:04d}_{migration.name}")
    click.echo(f"{len(applied)} migration(s) applied; the schema is current.")
