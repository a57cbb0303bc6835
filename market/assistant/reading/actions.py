"""What the shopper wants done next: one of nine actions, from a small LightGBM model over the sentence.

The features are the sentence embedding (the same all-MiniLM-L6-v2 the matching engine uses) and a few
cheap cues the embedding can blur: reference words ("the second one", "it"), money, a question, cart and
checkout words, and whether products were shown before. The model is trained on utterances generated from
the catalog's words (`market.assistant.reading.utterances`) and shipped in `action_model/`:

    python -m market.assistant.reading.actions [--seed 0] [--per-action 500] [--out market/assistant/action_model]

Training is deterministic (seeded generator, deterministic LightGBM), so the shipped model can be re-made;
its `meta.json` records the seed, the counts and the accuracy on a held-out split.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from market.assistant.reading.understanding import Vocabulary, understand
from market.assistant.reading.utterances import ACTIONS, Action, LabelledUtterance, generate_utterances
from ranking.embedder import Embedder

MODEL_DIR = Path(__file__).parent / "action_model"
CUES = ("has_reference", "has_money", "is_question", "mentions_cart", "mentions_checkout", "has_shown")
PARAMS: dict[str, Any] = {
    "objective": "multiclass",
    "num_class": len(ACTIONS),
    "learning_rate": 0.15,
    "num_leaves": 7,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.3,
    "max_bin": 31,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 7,
    "verbose": -1,
}
NUM_ROUNDS = 150

_REFERENCE = re.compile(
    r"\b(?:first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|one|ones|it|that|this|these|those|them|"
    r"both|number\s*\d|option\s*\d)\b|#\s?\d",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?|^\s*(?:what|which|is|are|does|do|can|could|how|who|will|would)\b", re.IGNORECASE)
_CART = re.compile(r"\b(?:cart|basket|bag)\b", re.IGNORECASE)
_CHECKOUT = re.compile(r"\b(?:check\s?out|pay|payment|order|purchase)\b", re.IGNORECASE)
_NO_WORDS = Vocabulary(brands=(), colors=(), sizes=(), category_terms={})


def cues(text: str, *, has_shown: bool) -> list[float]:
    """The cheap signals next to the embedding, in CUES order."""
    money = understand(text, _NO_WORDS, currency_default="USD").has_budget
    found = (_REFERENCE, None, _QUESTION, _CART, _CHECKOUT)
    values = [bool(pattern.search(text)) if pattern else money for pattern in found]
    return [float(value) for value in (*values, has_shown)]


def feature_matrix(embedder: Embedder, texts: Sequence[str], has_shown: Sequence[bool]) -> np.ndarray:
    """One row per text: its embedding followed by its cues."""
    vectors = embedder.embed_texts([" ".join(text.lower().split()) for text in texts], batch_size=32)
    extra = np.array([cues(text, has_shown=shown) for text, shown in zip(texts, has_shown, strict=True)])
    return np.hstack([vectors, extra.reshape(len(texts), len(CUES))]).astype(np.float32)


class ActionClassifier:
    """The shipped action model with the embedder that makes its features."""

    def __init__(self, booster: lgb.Booster, metadata: dict[str, Any], embedder: Embedder) -> None:
        if tuple(metadata.get("actions", ())) != ACTIONS or tuple(metadata.get("cues", ())) != CUES:
            raise ValueError("the action model was trained for other actions or cues: retrain it")
        self.booster = booster
        self.metadata = metadata
        self.embedder = embedder

    @classmethod
    def load(cls, directory: Path | None = None, *, embedder: Embedder | None = None) -> ActionClassifier:
        """The model in `directory` (default: the one shipped with Agora); pass the engine's embedder to
        share it."""
        directory = directory or MODEL_DIR
        metadata = json.loads((directory / "meta.json").read_text())
        booster = lgb.Booster(model_file=str(directory / "model.txt"))
        return cls(booster, metadata, embedder or Embedder(query_precision="fp32"))

    def predict(self, text: str, *, has_shown: bool) -> tuple[Action, float]:
        """The most likely action for `text` and the model's probability for it (0..1)."""
        return self.predict_many([text], has_shown=[has_shown])[0]

    def predict_many(self, texts: Sequence[str], *, has_shown: Sequence[bool]) -> list[tuple[Action, float]]:
        if not texts:
            return []
        probabilities = self.probabilities(feature_matrix(self.embedder, texts, has_shown))
        best = probabilities.argmax(axis=1)
        return [(ACTIONS[i], float(row[i])) for i, row in zip(best, probabilities, strict=True)]  # type: ignore[misc]

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        # One thread: a turn classifies one sentence, and threads would only fight the other requests.
        return np.asarray(self.booster.predict(matrix, num_threads=1))


# --- training ------------------------------------------------------------------------------------------


def train(matrix: np.ndarray, labels: np.ndarray, *, rounds: int = NUM_ROUNDS) -> lgb.Booster:
    names = [f"embedding_{i}" for i in range(matrix.shape[1] - len(CUES))] + list(CUES)
    return lgb.train(PARAMS, lgb.Dataset(matrix, label=labels, feature_name=names), num_boost_round=rounds)


def accuracy(booster: lgb.Booster, matrix: np.ndarray, labels: np.ndarray) -> float:
    predicted = np.asarray(booster.predict(matrix)).argmax(axis=1)
    return float((predicted == labels).mean())


def split_rows(utterances: Sequence[LabelledUtterance], holdout: float, seed: int) -> np.ndarray:
    """A boolean mask of held-out rows: a random `holdout` share of each action's utterances."""
    rng = random.Random(f"agora-assistant-split:{seed}")
    held = np.zeros(len(utterances), dtype=bool)
    for action in ACTIONS:
        rows = [i for i, u in enumerate(utterances) if u.action == action]
        held[rng.sample(rows, round(len(rows) * holdout))] = True
    return held


def split_templates(utterances: Sequence[LabelledUtterance], holdout: float, seed: int) -> np.ndarray:
    """A boolean mask of rows whose phrasing (template) is held out: wording the model never saw."""
    rng = random.Random(f"agora-assistant-template-split:{seed}")
    held_templates = set()
    for action in ACTIONS:
        templates = sorted({u.template for u in utterances if u.action == action})
        held_templates.update(rng.sample(templates, max(1, round(len(templates) * holdout))))
    return np.array([u.template in held_templates for u in utterances])


def build(out: Path, *, seed: int = 0, per_action: int = 500, holdout: float = 0.2) -> dict[str, Any]:
    """Generates utterances, measures on held-out rows and held-out phrasings, saves model and metadata."""
    utterances = generate_utterances(Vocabulary.demo(), seed=seed, per_action=per_action)
    labels = np.array([ACTIONS.index(u.action) for u in utterances])
    embedder = Embedder(query_precision="fp32")  # utterances are embedded as texts
    matrix = feature_matrix(embedder, [u.text for u in utterances], [u.has_shown for u in utterances])

    unseen = split_templates(utterances, holdout, seed)
    unseen_accuracy = accuracy(train(matrix[~unseen], labels[~unseen]), matrix[unseen], labels[unseen])
    held = split_rows(utterances, holdout, seed)
    booster = train(matrix[~held], labels[~held])
    metadata = {
        "actions": list(ACTIONS),
        "cues": list(CUES),
        "embedding_model": embedder.model_id,
        "generator_seed": seed,
        "utterances": len(utterances),
        "per_action": per_action,
        "train_rows": int((~held).sum()),
        "held_out_rows": int(held.sum()),
        "held_out_accuracy": round(accuracy(booster, matrix[held], labels[held]), 4),
        "unseen_template_rows": int(unseen.sum()),
        "unseen_template_accuracy": round(unseen_accuracy, 4),
        "num_boost_round": NUM_ROUNDS,
        "params": PARAMS,
    }
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out / "model.txt"))
    (out / "meta.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    return metadata


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the assistant's action classifier.")
    parser.add_argument("--seed", type=int, default=0, help="seed of the utterance generator")
    parser.add_argument("--per-action", type=int, default=500, help="utterances generated per action")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where to write model.txt and meta.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    metadata = build(args.out, seed=args.seed, per_action=args.per_action)
    print(json.dumps({k: v for k, v in metadata.items() if k != "params"}, indent=2, sort_keys=True))
    print(f"trained in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
