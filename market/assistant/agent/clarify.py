"""Options for one clarifying question, when a need is too vague to search ("a present for my sister"):
the categories of the live catalog's products nearest in meaning to what the shopper said, then the
categories whose names are closest to it (one per top-level category, so that the options differ), at most
`OPTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

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


def suggestions(
    nearby: Mapping[str, int], by_name: Sequence[str], among: Callable[[str], bool] | None = None
) -> list[str]:
    """The options of a clarifying question: the categories of the products nearest in meaning to the need
    ("working from home and my setup is rubbish": desk accessories, chairs, keyboards), the most of them
    first and each held by two of them or more, then the categories nearest by name."""
    chosen = [
        path
        for path, count in sorted(nearby.items(), key=lambda item: (-item[1], item[0]))
        if count >= 2 and (among is None or among(path))
    ]
    chosen += [path for path in by_name if path not in chosen]
    return chosen[:OPTIONS]


def _label(path: str) -> str:
    """ "Home & Kitchen > Cookware > Pans" -> "pans, cookware, home & kitchen": the leaf weighs most."""
    parts = [part.strip().lower() for part in path.split(">")]
    return ", ".join(reversed(parts))


# A need told as a situation ("my feet are dying after 12-hour shifts") is searched, not asked about, when
# this share of the products nearest in meaning to it lie in one department: a story whose nearest products
# spread over several (a present for someone, "something nice for the house") still gets one question.
LEANING_SHARE = 0.7
NEIGHBOURS = 20


def leading_department(counts: Mapping[str, int]) -> str | None:
    """The department (top-level category) holding at least LEANING_SHARE of the products counted in
    `counts` (category path -> how many), or its one category holding half of them; None when they spread."""
    total = sum(counts.values())
    if not total:
        return None
    roots: dict[str, int] = {}
    for path, count in counts.items():
        root = path.split(">", 1)[0].strip()
        roots[root] = roots.get(root, 0) + count
    root, held = max(roots.items(), key=lambda item: item[1])
    if held < LEANING_SHARE * total:
        return None
    path, most = max(counts.items(), key=lambda item: item[1])
    return path if most * 2 >= total and path.split(">", 1)[0].strip() == root else root
