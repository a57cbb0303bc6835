"""The LightGBM LambdaMART reranker: training, saving, loading and scoring one version of it.

A saved model is a directory with LightGBM's text model (`model.txt`) and `meta.json`: the feature list
it was trained on, its training window and data, and its offline metrics. Scoring feeds the model its own
feature list, so a model trained before a feature was added still scores correctly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from ranking.features import FEATURES

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambdarank_truncation_level": 20,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 7,
    "verbose": -1,
}


@dataclass(frozen=True)
class RerankerModel:
    version: str
    booster: lgb.Booster
    features: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [name for name in self.features if name not in FEATURES]
        if unknown:
            raise ValueError(f"model {self.version} uses features this engine does not compute: {unknown}")
        object.__setattr__(self, "_columns", np.array([FEATURES.index(name) for name in self.features]))

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """Scores for rows of `feature_matrix` (columns in FEATURES order); higher is better."""
        if len(matrix) == 0:
            return np.zeros(0)
        # One thread: a request scores ~100 rows, and threads would only fight the other requests.
        return self.booster.predict(matrix[:, self._columns], num_threads=1)  # type: ignore[attr-defined]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / "model.txt"))
        meta = {"version": self.version, "features": list(self.features), **self.metadata}
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))

    @classmethod
    def load(cls, directory: Path, version: str | None = None) -> RerankerModel:
        meta = json.loads((directory / "meta.json").read_text())
        booster = lgb.Booster(model_file=str(directory / "model.txt"))
        features = tuple(meta.pop("features"))
        stored_version = meta.pop("version", directory.name)
        return cls(version=version or stored_version, booster=booster, features=features, metadata=meta)


def train_lambdarank(
    matrix: np.ndarray,
    labels: np.ndarray,
    group_sizes: Sequence[int],
    *,
    valid: tuple[np.ndarray, np.ndarray, Sequence[int]] | None = None,
    weights: np.ndarray | None = None,
    num_rounds: int = 300,
    params: dict[str, Any] | None = None,
    init_model: lgb.Booster | None = None,
) -> lgb.Booster:
    """LambdaMART over query groups (rows of one query are consecutive; `group_sizes` counts them).

    With `init_model`, boosting continues from that model: its trees are kept and up to `num_rounds` new
    ones learn what it still gets wrong (its columns must be FEATURES, in that order)."""
    settings = DEFAULT_PARAMS | (params or {})
    train_set = lgb.Dataset(
        matrix, label=labels, group=list(group_sizes), weight=weights, feature_name=list(FEATURES)
    )
    valid_sets, callbacks = [], []
    if valid is not None:
        valid_set = lgb.Dataset(valid[0], label=valid[1], group=list(valid[2]), reference=train_set)
        valid_sets.append(valid_set)
        callbacks.append(lgb.early_stopping(30, verbose=False))
    return lgb.train(
        settings,
        train_set,
        num_boost_round=num_rounds,
        valid_sets=valid_sets,
        callbacks=callbacks,
        init_model=init_model,
    )
