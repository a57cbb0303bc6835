"""Product text and queries are normalised alike: one measure written many ways meets itself."""

from __future__ import annotations

import pytest

from ranking.documents import IndexedProduct
from ranking.lexical import LexicalIndex
from ranking.query_text import singular, words


@pytest.mark.parametrize(
    "written", ["1/2 in. pipe", "0.5 inch pipe", '1/2" pipe', "1/2-in pipe", ".5 inches pipe"]
)
def test_half_an_inch_is_one_word_however_written(written: str) -> None:
    assert words(written) == ["0.5in", "pipe"]


def test_feet_become_inches_so_a_query_in_feet_meets_a_title_in_inches() -> None:
    assert "48in" in words("4 ft. level") and "48in" in words("48 in. level")
    assert words("1-1/2 in. screws") == ["1.5in", "screw"]
    assert words("16 fl. oz. bottle") == ["16floz", "bottle"]


def test_compound_dimensions_are_split_and_kept_whole() -> None:
    assert words("2x4 stud") == ["2x4", "2", "x", "4", "stud"]
    # 4x8ft: both numbers take the unit; the title writes 48 in. x 96 in.
    assert {"48in", "96in"} <= set(words("4x8ft plywood")) and {"48in", "96in"} <= set(
        words("Plywood 48 in. x 96 in.")
    )


def test_model_numbers_are_also_written_joined() -> None:
    assert words("WD-40 spray") == ["wd", "40", "wd40", "spray"]
    assert "r13" in words("R-13 insulation")


def test_a_number_without_a_unit_stays_a_number() -> None:
    assert words("iphone 5 case") == ["iphone", "5", "case"]
    assert words("3 pack") == ["3", "pack"]


def test_plurals_fold_but_word_endings_that_are_not_plurals_stay() -> None:
    assert [singular(w) for w in ("lights", "batteries", "boxes", "brushes")] == [
        "light",
        "battery",
        "box",
        "brush",
    ]
    # A full stemmer made "brushed" (a finish) and "brush" (a tool) one word; the light fold does not.
    assert (
        singular("brushed") == "brushed"
        and singular("glass") == "glass"
        and singular("christmas") == "christmas"
    )


def _index(*titles: str) -> LexicalIndex:
    index = LexicalIndex()
    index.upsert([IndexedProduct(product_id=i, title=title) for i, title in enumerate(titles, start=1)])
    index.commit()
    return index


def _first(index: LexicalIndex, query: str) -> int:
    return index.search(query, 5)[0][0]


def test_the_index_finds_a_measure_written_differently_in_query_and_title() -> None:
    index = _index('Copper Pipe 1/2" x 10 ft.', "Copper Pipe 3/4 in. x 10 ft.")
    assert _first(index, "0.5 inch copper pipe") == 1
    assert _first(index, "3/4 inch copper pipe") == 2


def test_a_misspelt_word_still_finds_the_title_word_one_edit_away() -> None:
    index = _index("Cordless Drill Kit", "Garden Hose")
    assert _first(index, "cordles drill") == 1
    assert [pid for pid, _ in index.search("gardn", 5)] == [2]


def test_a_finish_is_not_merged_with_a_tool() -> None:
    index = _index("Brushed Nickel Faucet", "Paint Brush Set")
    assert _first(index, "paint brush") == 2
    assert [pid for pid, _ in index.search("brushed", 5)] == [1]
