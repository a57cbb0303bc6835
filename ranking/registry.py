"""The model registry: every reranker and embedding model version, its files, metadata and status.

Files live under `<data dir>/models/<kind>/<version>/`; the `model_versions` table says which version of
each kind serves. Promotion is one transaction, so exactly one version serves at any moment. Before any
model has been trained, the reranker shipped with Agora (trained on the seed relevance set and outside
sets, see `ranking.offline.train_mix`) is registered as the first serving one.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import asyncpg

from ranking import store

Kind = Literal["reranker", "embedding"]
SEED_RERANKER_PACKAGE = "ranking.seed_model"


@dataclass(frozen=True)
class ModelVersion:
    version: str
    kind: str
    path: str
    status: str
    metadata: dict[str, Any]
    created_at: datetime
    promoted_at: datetime | None


class UnknownVersion(LookupError):
    pass


class RollbackRefused(ValueError):
    """A version that cannot be rolled back to (never served, or of no use)."""


class ModelRegistry:
    def __init__(self, pool: asyncpg.Pool, data_dir: Path) -> None:
        self.pool = pool
        self.models_dir = data_dir / "models"

    def directory(self, model: ModelVersion) -> Path:
        return self.models_dir / model.path

    async def serving(self, kind: Kind) -> ModelVersion | None:
        async with self.pool.acquire() as conn:
            row = await store.serving_version(conn, kind)
        return ModelVersion(**row) if row else None

    async def get(self, version: str) -> ModelVersion:
        async with self.pool.acquire() as conn:
            row = await store.get_version(conn, version)
        if row is None:
            raise UnknownVersion(version)
        return ModelVersion(**row)

    async def list(self, kind: Kind | None = None) -> list[ModelVersion]:
        async with self.pool.acquire() as conn:
            return [ModelVersion(**row) for row in await store.list_versions(conn, kind)]

    async def register(
        self, kind: Kind, version: str, source: Path, metadata: dict[str, Any], *, status: str = "candidate"
    ) -> ModelVersion:
        """Copy the model files in `source` into the registry and record the version."""
        relative = f"{kind}/{version}"
        target = self.models_dir / relative
        if source.resolve() != target.resolve() and not target.exists():
            # Copied beside it, then renamed: another worker may be loading this version at this moment
            # (both register the seed at first start), and must never read a half-written file.
            staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
            shutil.copytree(source, staging)
            try:
                staging.rename(target)
            except OSError:  # another process put the same version there first
                shutil.rmtree(staging, ignore_errors=True)
        async with self.pool.acquire() as conn, conn.transaction():
            await store.insert_version(conn, version, kind, relative, "candidate", metadata)
            if status == "serving":
                await store.make_serving(conn, version, kind)
            elif status != "candidate":
                await store.set_status(conn, version, status)
            row = await store.get_version(conn, version)
        return ModelVersion(**row)

    async def promote(self, version: str) -> ModelVersion:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await store.get_version(conn, version)
            if row is None:
                raise UnknownVersion(version)
            await store.make_serving(conn, version, row["kind"])
        return await self.get(version)

    async def rollback(self, version: str) -> ModelVersion:
        """Serve again a version that served before. A refused or never-promoted candidate is not a
        rollback target: serving it would skip the gate that judged it (use `promote` to do so on purpose)."""
        model = await self.get(version)
        if model.status == "serving":
            raise RollbackRefused(f"{version} already serves")
        if model.promoted_at is None:
            raise RollbackRefused(
                f"{version} never served ({model.status}); only a version that served before can be rolled back to"
            )
        return await self.promote(version)

    async def ensure_base_embedding(self, path: Path, model_id: str) -> ModelVersion:
        """The serving embedding model, registering the one the service embeds with now (the shipped
        all-MiniLM-L6-v2, or AGORA_EMBEDDING_MODEL) if no embedding version was ever registered, so that a
        fine-tuned successor can be rolled back to it. It is recorded where it lies, not copied: its
        identity, and so the vector index made with it, stays the same."""
        if (current := await self.serving("embedding")) is not None:
            return current
        version = f"embedding-base-{model_id}"
        async with self.pool.acquire() as conn, conn.transaction():
            if await store.get_version(conn, version) is None:
                await store.insert_version(
                    conn, version, "embedding", str(path.resolve()), "candidate", {"origin": "base model"}
                )
            await store.make_serving(conn, version, "embedding")
        return await self.get(version)

    async def ensure_seed_reranker(self) -> ModelVersion:
        """The serving reranker, registering the shipped seed model first if none has ever served."""
        if (current := await self.serving("reranker")) is not None:
            return current
        source = Path(str(resources.files(SEED_RERANKER_PACKAGE)))
        digest = hashlib.sha256((source / "model.txt").read_bytes()).hexdigest()[:8]
        version = f"reranker-seed-{digest}"
        try:
            return await self.promote(version)  # known from an earlier run but retired: serve it again
        except UnknownVersion:
            pass
        try:
            return await self.register(
                "reranker", version, source, {"origin": "seed relevance set"}, status="serving"
            )
        except asyncpg.UniqueViolationError:  # another process registered it at the same moment
            return await self.serving("reranker")  # type: ignore[return-value]
