"""Which queries of a relevance set are evaluated, and what its grades are worth.

Outside sets come with their own habits: CrowdFlower grades 1-4 where 1 means irrelevant, WANDS has 480
queries of which a quick run wants a few, a comparison wants the very queries of an earlier run. These
turn a loaded set into the one to evaluate, and say how many queries were left out and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ranking.offline.evaluate import RelevanceSet


@dataclass(frozen=True)
class Selection:
    limit: int | None = None  # the first N queries that qualify, in the set's order
    min_judgments: int = 1  # products judged (any grade) for a query to count
    query_ids: frozenset[str] | None = None  # only these (from a file), when given


@dataclass(frozen=True)
class SelectionCounts:
    queries: int  # in the set
    selected: int
    without_relevant: int  # no product graded above "irrelevant": says nothing about a ranker
    too_few_judgments: int
    not_listed: int  # absent from the query-id file
    over_limit: int


def shift_grades(relevance: RelevanceSet, irrelevant_grade: float) -> RelevanceSet:
    """Grades on a scale whose `irrelevant_grade` means irrelevant: that grade and below become 0, those
    above lose it (1-4 with irrelevant 1 -> 0-3), so an irrelevant product neither outranks an unjudged one
    in NDCG nor counts as relevant for recall and MRR."""
    labels = {
        query_id: {pid: max(grade - irrelevant_grade, 0.0) for pid, grade in grades.items()}
        for query_id, grades in relevance.labels.items()
    }
    return RelevanceSet(products=relevance.products, queries=relevance.queries, labels=labels)


def read_query_ids(path: Path) -> frozenset[str]:
    """One query id a line; blank lines and lines starting with # are skipped."""
    lines = (line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def select(relevance: RelevanceSet, selection: Selection) -> tuple[RelevanceSet, SelectionCounts]:
    chosen: list[str] = []
    without, few, unlisted, over = 0, 0, 0, 0
    for query_id in relevance.queries:
        grades = relevance.labels.get(query_id, {})
        if selection.query_ids is not None and query_id not in selection.query_ids:
            unlisted += 1
        elif not any(grade > 0 for grade in grades.values()):
            without += 1
        elif len(grades) < selection.min_judgments:
            few += 1
        elif selection.limit is not None and len(chosen) >= selection.limit:
            over += 1
        else:
            chosen.append(query_id)
    counts = SelectionCounts(len(relevance.queries), len(chosen), without, few, unlisted, over)
    return only(relevance, chosen), counts


def only(relevance: RelevanceSet, query_ids: Iterable[str]) -> RelevanceSet:
    keep = list(query_ids)
    return RelevanceSet(
        products=relevance.products,
        queries={qid: relevance.queries[qid] for qid in keep},
        labels={qid: relevance.labels[qid] for qid in keep if qid in relevance.labels},
    )
