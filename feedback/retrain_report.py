"""What one retraining run (`feedback.retrain`) is asked to do and what it reports: its options, one
decision per model (promoted, refused or skipped, and why) and the time each step took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from feedback import datasets

Outcome = Literal["promoted", "refused", "skipped"]
Tamper = Callable[[datasets.TrainingSet], datasets.TrainingSet]


@dataclass
class Decision:
    kind: str
    outcome: Outcome
    reason: str
    version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class RetrainReport:
    since: datetime
    until: datetime
    impressions: int = 0
    training_searches: int = 0
    held_out_searches: int = 0
    decisions: list[Decision] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def decision(self, kind: str) -> Decision | None:
        return next((d for d in self.decisions if d.kind == kind), None)


@dataclass
class RetrainOptions:
    now: datetime | None = None
    train_embedding: bool = True
    # For drills only (bench/loop.py shows the gate refusing a model trained on corrupted labels).
    tamper: Tamper | None = None
    progress: bool = False
    seed: int = 7


class StepClock:
    """Seconds spent in each step of a run, summed over repeats: the report's `timings`."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
