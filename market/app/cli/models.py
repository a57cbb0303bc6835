"""`agora models`: the model registry."""

from __future__ import annotations

import click

from market.app.cli.common import database_url, run, with_pool
from market.core.settings import Settings


@click.group()
def models() -> None:
    """The model registry."""


@models.command("list")
@click.pass_obj
def models_list(settings: Settings) -> None:
    """Every model version, newest first."""
    from ranking.registry import ModelRegistry

    async def listing(pool):
        registry = ModelRegistry(pool, settings.data_dir)
        await registry.ensure_seed_reranker()
        return await registry.list()

    for model in run(with_pool(settings, database_url(settings), listing, migrate=True)):
        click.echo(
            f"{model.version:<44} {model.kind:<10} {model.status:<9} {model.created_at:%Y-%m-%d %H:%M}  "
            f"{_figures(model.metadata)}"
        )


def _figures(metadata: dict) -> str:
    """A model's offline figures in a few words, and why the gate refused it if it did."""
    metrics = metadata.get("offline_metrics", {})
    parts = []
    if "ndcg@10" in metrics.get("hybrid+rerank", {}):
        parts.append(f"relevance-set ndcg@10={metrics['hybrid+rerank']['ndcg@10']:.4f}")
    if "held_out_ndcg@10" in metrics:
        parts.append(f"held-out ndcg@10={metrics['held_out_ndcg@10']['candidate']:.4f}")
    if "candidate" in metrics and "held_out" in metrics["candidate"]:  # an embedding model
        parts.append(f"held-out dense ndcg@10={metrics['candidate']['held_out']['ndcg@10']:.4f}")
        parts.append(f"relevance-set dense ndcg@10={metrics['candidate']['relevance_set']['ndcg@10']:.4f}")
    if refused := (metadata.get("gate") or {}).get("refused"):
        parts.append(f"refused: {refused}")
    return "  ".join(parts)


@models.command("promote")
@click.argument("version")
@click.pass_obj
def models_promote(settings: Settings, version: str) -> None:
    """Serve VERSION; a running service swaps it in within AGORA_MODEL_POLL_SECONDS."""
    from ranking.registry import ModelRegistry, UnknownVersion

    async def promote(pool):
        return await ModelRegistry(pool, settings.data_dir).promote(version)

    try:
        promoted = run(with_pool(settings, database_url(settings), promote, migrate=True))
    except UnknownVersion:
        raise click.ClickException(f"no model version {version!r}; see 'agora models list'") from None
    click.echo(f"{promoted.version} now serves ({promoted.kind})")


@models.command("rollback")
@click.argument("version")
@click.pass_obj
def models_rollback(settings: Settings, version: str) -> None:
    """Serve VERSION again (one that served before); a running service swaps it in within seconds."""
    from ranking.registry import ModelRegistry, RollbackRefused, UnknownVersion

    async def rollback(pool):
        return await ModelRegistry(pool, settings.data_dir).rollback(version)

    try:
        model = run(with_pool(settings, database_url(settings), rollback, migrate=True))
    except UnknownVersion:
        raise click.ClickException(f"no model version {version!r}; see 'agora models list'") from None
    except RollbackRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{model.version} serves again ({model.kind})")
