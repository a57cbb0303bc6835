"""`agora index`: the search index."""

from __future__ import annotations

import click

from market.app.cli.common import database_url, offline_engine, run, with_pool
from market.core.settings import Settings


@click.group()
def index() -> None:
    """The search index."""


@index.command("rebuild")
@click.pass_obj
def index_rebuild(settings: Settings) -> None:
    """Re-embed the whole catalog into a new vector index, saved in the data dir.

    A running service keeps the index it has; ask it to rebuild in place with
    POST /v1/operator/index/rebuild instead, or restart it after this command.
    """
    from market.search.indexer import SearchIndexer

    async def rebuild(pool) -> int:
        return await SearchIndexer(offline_engine(settings), pool, settings).rebuild(progress=True)

    count = run(with_pool(settings, database_url(settings), rebuild, migrate=True))
    click.echo(f"indexed {count} products into {settings.data_dir / 'index'}")
