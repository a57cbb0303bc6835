"""Options for one clarifying question, when a need is too vague to search ("a present for my sister"):
the live catalog's categories whose names are closest in meaning to what the shopper said, one per
top-level category so that the options differ, at most `OPTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

OPTIONS = 4


class Suggester:
    """Suggests categories of `categories` (paths such as "Beauty > Fragrance") for a sentence, by the
    cosine of its embedding with each category's name."""

    def __init__(self, embed: object, categories: Sequence[str]) -> None:
        self._embed = embed  # texts -> normalised vectors (an Embedder's embed_texts)
        self.categories = [path for path in sorted(set(categories)) if ">" in path] or sorted(set(categories))
        labels = [_label(path) for path in self.categories]
        self._vectors = np.asarray(embed(labels)) if labels else np.zeros((0, 1))  # type: ignore[operator]

    def __call__(self, text: str, among: Callable[[str], bool] | None = None) -> list[str]:
        """`among`: which categories may be offered ("for a six-year-old": those with ages), all if None."""
        if not self.categories:
            return []
        query = np.asarray(self._embed([text]))[0]  # type: ignore[operator]
        order = np.argsort(-(self._vectors @ query), kind="stable")
        chosen: list[str] = []
        roots: set[str] = set()
        for index in order.tolist():
            path = self.categories[index]
            if among is not None and not among(path):
                continue
            root = path.split(">", 1)[0].strip() if among is None else path  # a few kinds may share one
            if root in roots:
                continue
            roots.add(root)
            chosen.append(path)
            if len(chosen) == OPTIONS:
                break
        return chosen


def _label(path: str) -> str:
    """ "Home & Kitchen > Cookware > Pans" -> "pans, cookware, home & kitchen": the leaf weighs most."""
    parts = [part.strip().lower() for part in path.split(">")]
    return ", ".join(reversed(parts))
