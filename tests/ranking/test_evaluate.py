"""Offline relevance metrics checked against arithmetic done by hand, and the WANDS-style loader."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ranking.documents import IndexedProduct
from ranking.offline.evaluate import (
    RelevanceSet,
    evaluate,
    format_table,
    load_relevance_set,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)

LOG2_3 = math.log2(3)  # the discount at rank 2; rank 1 divides by log2(2) = 1, rank 3 by log2(4) = 2


# --- NDCG ----------------------------------------------------------------------------------------------


def test_ndcg_worked_example() -> None:
    # ranked [3, 1, 2], grades {1: 2, 2: 1}; product 3 is unjudged, so grade 0.
    # DCG  = (2^0-1)/log2(2) + (2^2-1)/log2(3) + (2^1-1)/log2(4) = 0 + 3/1.58496 + 1/2 = 2.39279
    # IDCG = (2^2-1)/log2(2) + (2^1-1)/log2(3)                    = 3 + 1/1.58496       = 3.63093
    # NDCG = 2.39279 / 3.63093 = 0.65900
    expected = (3 / LOG2_3 + 1 / 2) / (3 + 1 / LOG2_3)
    assert ndcg_at_k([3, 1, 2], {1: 2, 2: 1}) == pytest.approx(expected)
    assert ndcg_at_k([3, 1, 2], {1: 2, 2: 1}) == pytest.approx(0.65900, abs=1e-5)


def test_ndcg_perfect_ranking_is_one_and_unjudged_products_count_as_irrelevant() -> None:
    assert ndcg_at_k([1, 2], {1: 2, 2: 1}) == pytest.approx(1.0)
    # ranked [9, 1], grades {1: 1}: DCG = 0 + (2^1-1)/log2(3) = 0.63093; IDCG = 1 -> 0.63093
    assert ndcg_at_k([9, 1], {1: 1}) == pytest.approx(1 / LOG2_3)
    # A product judged Irrelevant (grade 0) earns exactly what an unjudged one does.
    assert ndcg_at_k([9, 1], {1: 1, 9: 0}) == ndcg_at_k([9, 1], {1: 1})


def test_ndcg_ideal_uses_all_judged_grades_and_k_cuts_the_list() -> None:
    # ranked [1], grades {1: 1, 2: 2}: DCG = 1/1 = 1; the ideal puts product 2 first:
    # IDCG = 3/1 + 1/log2(3) = 3.63093 -> NDCG = 0.27541
    assert ndcg_at_k([1], {1: 1, 2: 2}) == pytest.approx(1 / (3 + 1 / LOG2_3))
    # k = 2 stops before the only relevant product at rank 3.
    assert ndcg_at_k([5, 6, 1], {1: 2}, k=2) == 0.0
    # k = 1: ideal DCG is also cut to one place: DCG = 1 (grade 1 at rank 1), IDCG = 3 -> 1/3
    assert ndcg_at_k([1, 2], {1: 1, 2: 2}, k=1) == pytest.approx(1 / 3)


def test_ndcg_counts_a_repeated_product_once() -> None:
    # ranked [1, 1, 2] is read as [1, 2]: DCG = 1 + 1/log2(3) = IDCG -> 1.0, not more.
    assert ndcg_at_k([1, 1, 2], {1: 1, 2: 1}) == pytest.approx(1.0)


def test_ndcg_is_zero_without_a_relevant_product() -> None:
    assert ndcg_at_k([1, 2], {1: 0, 2: 0}) == 0.0
    assert ndcg_at_k([1, 2], {}) == 0.0
    assert ndcg_at_k([], {1: 2}) == 0.0


# --- recall and reciprocal rank ------------------------------------------------------------------------


def test_recall_counts_products_with_grade_above_zero() -> None:
    grades = {1: 2, 3: 1, 5: 1, 6: 0}  # relevant: {1, 3, 5}; 6 is judged irrelevant
    assert recall_at_k([1, 2, 3, 4, 6], grades) == pytest.approx(2 / 3)  # found 1 and 3
    assert recall_at_k([1, 2, 3, 4], grades, k=2) == pytest.approx(1 / 3)  # top 2 = [1, 2]: only 1
    assert recall_at_k([1, 3, 5], grades, k=3) == pytest.approx(1.0)
    assert recall_at_k([1, 1, 1], grades, k=2) == pytest.approx(1 / 3)  # [1, 1] is one product
    assert recall_at_k([1, 3], {1: 0}) == 0.0  # nothing to recall


def test_reciprocal_rank() -> None:
    assert reciprocal_rank([4, 5, 2], {2: 1}) == pytest.approx(1 / 3)  # first relevant at rank 3
    assert reciprocal_rank([2, 5], {2: 1}) == 1.0
    assert reciprocal_rank([7, 2], {7: 0, 2: 2}) == pytest.approx(1 / 2)  # grade 0 is not relevant
    assert reciprocal_rank([4, 5], {2: 1}) == 0.0  # the relevant product is not in the list
    assert reciprocal_rank([], {2: 1}) == 0.0


# --- evaluate and the table ----------------------------------------------------------------------------


def small_set() -> RelevanceSet:
    return RelevanceSet(
        products=[IndexedProduct(product_id=i, title=f"product {i}") for i in range(1, 5)],
        queries={"q1": "red", "q2": "blue", "q3": "nothing relevant", "q4": "never judged"},
        labels={"q1": {1: 2, 2: 0}, "q2": {3: 1}, "q3": {4: 0}},
    )


def test_evaluate_averages_over_queries_with_a_relevant_label() -> None:
    asked: list[str] = []

    def fixed(text: str) -> list[int]:
        asked.append(text)
        return [2, 1, 3]

    results = evaluate({"fixed": fixed, "oracle": lambda text: {"red": [1], "blue": [3]}[text]}, small_set())
    # q1, grades {1: 2, 2: 0}, ranked [2, 1, 3]: NDCG = (3/log2(3)) / 3 = 0.63093, recall 1, RR 1/2
    # q2, grades {3: 1},       ranked [2, 1, 3]: NDCG = (1/log2(4)) / 1 = 0.5,     recall 1, RR 1/3
    # q3 (only grade 0) and q4 (no labels) are skipped, not scored 0.
    assert results["fixed"] == pytest.approx(
        {"ndcg@10": (1 / LOG2_3 + 0.5) / 2, "recall@100": 1.0, "mrr": (1 / 2 + 1 / 3) / 2}
    )
    assert results["oracle"] == pytest.approx({"ndcg@10": 1.0, "recall@100": 1.0, "mrr": 1.0})
    assert asked == ["red", "blue"]


def test_evaluate_with_progress_and_without_any_judged_query() -> None:
    assert evaluate({"none": lambda text: []}, small_set(), progress=True)["none"]["mrr"] == 0.0
    empty = RelevanceSet(products=[], queries={"q": "x"}, labels={"q": {1: 0}})
    with pytest.raises(ValueError, match="no query"):
        evaluate({"none": lambda text: []}, empty)


def test_format_table_aligns_four_decimals() -> None:
    table = format_table(
        {
            "lexical": {"ndcg@10": 0.41234, "recall@100": 0.8, "mrr": 0.5},
            "hybrid+rerank": {"ndcg@10": 0.6, "recall@100": 0.91, "mrr": 2 / 3},
        }
    )
    lines = table.splitlines()
    assert lines[0].split() == ["Stage", "NDCG@10", "Recall@100", "MRR"]
    assert lines[2].split() == ["lexical", "0.4123", "0.8000", "0.5000"]
    assert lines[3].split() == ["hybrid+rerank", "0.6000", "0.9100", "0.6667"]
    assert len({len(line) for line in lines}) == 1  # every row as wide as the header
    assert {line.rindex(".") for line in lines[2:]} == {len(lines[0]) - 5}  # decimal points line up


# --- loading -------------------------------------------------------------------------------------------

WANDS_PRODUCTS = (
    "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features"
    "\trating_count\taverage_rating\treview_count\n"
    '0\tsolid wood platform bed\tBeds\tFurniture / Bedroom Furniture / Beds & Headboards\tthe 12" model, '
    'with a "rustic look\toverallwidth-sidetoside:64.7|producttype : platform bed| : gray wood'
    "|color:white|color:grey\t15.0\t4.5\t15.0\n"
    "1\tall-clad 7 qt . slow cooker\tSlow Cookers\t\tcreate delicious slow-cooked meals\tcapacityquarts:7\n"
)
WANDS_QUERIES = (
    "query_id\tquery\tquery_class\n"
    "0\tsalon chair\tMassage Chairs\n"
    '208\t"fawkes 36"" blue vanity"\tVanities\n'  # as WANDS has it: written by pandas, quoted
    '5\t"lone quote\t\n'
)
LABEL_HEADER = "id\tquery_id\tproduct_id\tlabel\n"
WANDS_LABELS = LABEL_HEADER + "1\t0\t0\tExact\n2\t0\t1\tIrrelevant\n3\t208\t1\tpartial\n4\t5\t0\t1.5\n"


def write_set(
    directory: Path, products: str = WANDS_PRODUCTS, queries: str = WANDS_QUERIES, labels: str = WANDS_LABELS
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (("product.csv", products), ("query.csv", queries), ("label.csv", labels)):
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_load_a_wands_style_set(tmp_path: Path) -> None:
    relevance = load_relevance_set(write_set(tmp_path / "wands"), progress=True)
    bed, cooker = relevance.products
    assert bed.product_id == 0
    assert bed.title == "solid wood platform bed"
    assert bed.category == "Furniture > Bedroom Furniture > Beds & Headboards"
    assert bed.description == 'the 12" model, with a "rustic look'  # lone quotes read verbatim
    assert bed.attributes == {
        "overallwidth-sidetoside": "64.7",
        "producttype": "platform bed",
        "color": ["white", "grey"],
    }
    assert (bed.brand, bed.price_amount, bed.currency) == ("", None, None)
    assert cooker.category == "Slow Cookers"  # no hierarchy: the product class stands in
    assert cooker.attributes == {"capacityquarts": "7"}
    assert relevance.queries == {"0": "salon chair", "208": 'fawkes 36" blue vanity', "5": '"lone quote'}
    assert relevance.labels == {"0": {0: 2.0, 1: 0.0}, "208": {1: 1.0}, "5": {0: 1.5}}


def test_load_our_optional_product_columns(tmp_path: Path) -> None:
    products = (
        "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\tproduct_features"
        "\tbrand\tprice_amount\tcurrency\tavailability\tinventory_quantity\n"
        "7\tTrail Shoe\tRunning\tShoes / Running\tA shoe.\tcolor:blue|size:10"
        "\tStridewell\t8999\tUSD\tin_stock\t4\n"
    )
    relevance = load_relevance_set(write_set(tmp_path, products=products, labels=LABEL_HEADER))
    (shoe,) = relevance.products
    assert (shoe.brand, shoe.price_amount, shoe.currency, shoe.availability, shoe.inventory_quantity) == (
        "Stridewell",
        8999,
        "USD",
        "in_stock",
        4,
    )
    assert shoe.in_stock and shoe.category_parts == ["Shoes", "Running"]
    assert relevance.labels == {}


def test_malformed_label_names_file_line_and_column(tmp_path: Path) -> None:
    labels = LABEL_HEADER + "1\t0\t0\tExact\n2\t0\t1\tMaybe\n"
    with pytest.raises(ValueError, match=r"label\.csv:3: column 'label': unknown label 'Maybe'"):
        load_relevance_set(write_set(tmp_path, labels=labels))


def test_other_malformed_input(tmp_path: Path) -> None:
    labels = LABEL_HEADER + "1\t0\tSKU-9\tExact\n"
    not_an_int = r"label\.csv:2: column 'product_id': expected an integer, got 'SKU-9'"
    with pytest.raises(ValueError, match=not_an_int):
        load_relevance_set(write_set(tmp_path / "a", labels=labels))
    with pytest.raises(ValueError, match=r"query\.csv:1: header lacks column\(s\) 'query'"):
        load_relevance_set(write_set(tmp_path / "b", queries="query_id\ttext\n1\tchair\n"))
    with pytest.raises(ValueError, match=r"query\.csv:3: 4 tab-separated fields"):
        queries = "query_id\tquery\tquery_class\n1\ta\tb\n2\ta\tb\tc\n"
        load_relevance_set(write_set(tmp_path / "c", queries=queries))
    with pytest.raises(ValueError, match=r"label\.csv:2: column 'label'"):
        load_relevance_set(write_set(tmp_path / "d", labels=LABEL_HEADER + "1\t0\t0\t-1\n"))
    (tmp_path / "a" / "query.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"query\.csv"):
        load_relevance_set(tmp_path / "a")
