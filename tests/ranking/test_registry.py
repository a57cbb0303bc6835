"""The model registry: one serving version per kind, rollback to a version that served before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from market.core import db
from ranking.registry import ModelRegistry, RollbackRefused, UnknownVersion


@pytest.fixture
async def registry(database_url: str, settings, tmp_path: Path) -> AsyncIterator[ModelRegistry]:
    pool = await db.create_pool(database_url, settings)
    try:
        yield ModelRegistry(pool, tmp_path / "data")
    finally:
        await pool.close()


def model_files(directory: Path, content: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "model.txt").write_text(content)
    return directory


async def test_rollback_serves_the_earlier_version_again(registry: ModelRegistry, tmp_path: Path) -> None:
    first = await registry.ensure_seed_reranker()
    await registry.register("reranker", "reranker-b", model_files(tmp_path / "b", "b"), {}, status="serving")
    assert (await registry.serving("reranker")).version == "reranker-b"
    assert (await registry.get(first.version)).status == "retired"

    rolled = await registry.rollback(first.version)

    assert rolled.status == "serving"
    assert (await registry.serving("reranker")).version == first.version
    assert (await registry.get("reranker-b")).status == "retired"
    # the files of every version are kept, so rolling forward again is possible
    assert (registry.models_dir / "reranker/reranker-b/model.txt").read_text() == "b"
    assert (await registry.rollback("reranker-b")).status == "serving"


async def test_rollback_refuses_a_version_that_never_served(registry: ModelRegistry, tmp_path: Path) -> None:
    await registry.ensure_seed_reranker()
    await registry.register(
        "reranker", "reranker-bad", model_files(tmp_path / "bad", "x"), {"gate": "worse"}, status="refused"
    )
    with pytest.raises(RollbackRefused, match="never served"):
        await registry.rollback("reranker-bad")
    with pytest.raises(RollbackRefused, match="already serves"):
        await registry.rollback((await registry.serving("reranker")).version)
    with pytest.raises(UnknownVersion):
        await registry.rollback("reranker-nope")
    assert (await registry.get("reranker-bad")).status == "refused"  # kept, with its metadata
    assert (await registry.get("reranker-bad")).metadata == {"gate": "worse"}


async def test_the_base_embedding_is_registered_in_place_once(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    base = model_files(tmp_path / "all-MiniLM-L6-v2", "weights")
    first = await registry.ensure_base_embedding(base, "model-abc")
    again = await registry.ensure_base_embedding(base, "model-abc")
    assert first.version == again.version == "embedding-base-model-abc"
    assert first.status == "serving"
    assert registry.directory(first) == base.resolve()  # not copied: the model keeps its identity
    with pytest.raises(asyncpg.UniqueViolationError):  # one serving version per kind, enforced by the table
        async with registry.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO model_versions (version, kind, path, status) VALUES ('e2', 'embedding', 'x', 'serving')"
            )


async def test_a_version_whose_files_another_process_wrote_is_left_whole(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    # Two workers register the seed at their first start: the second must not rewrite files the first may
    # be loading, and no half-copied folder may be left behind.
    in_place = model_files(registry.models_dir / "reranker" / "reranker-c", "c")
    before = in_place.joinpath("model.txt").stat().st_mtime_ns

    await registry.register("reranker", "reranker-c", model_files(tmp_path / "c", "c"), {})

    assert in_place.joinpath("model.txt").read_text() == "c"
    assert in_place.joinpath("model.txt").stat().st_mtime_ns == before
    assert sorted(path.name for path in (registry.models_dir / "reranker").iterdir()) == ["reranker-c"]
