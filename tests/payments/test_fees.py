"""The platform's fee, which take rate applies, and how refunds split: integer arithmetic, exact to the cent."""

from __future__ import annotations

import uuid

import pytest

from payments.fees import RefundSplit, platform_fee, refund_split, take_rate_for


@pytest.mark.parametrize(
    ("line_amount", "bps", "fee"),
    [
        (0, 1000, 0),  # nothing sold, nothing taken
        (1, 1000, 0),  # 0.1 cent rounds down
        (5, 1000, 1),  # exactly half a cent rounds up
        (1, 4999, 0),  # just under half
        (1, 5000, 1),  # exactly half
        (14, 1000, 1),  # 1.4
        (15, 1000, 2),  # 1.5
        (12999, 1000, 1300),  # 1299.9
        (12999, 0, 0),
        (12999, 10000, 12999),  # the whole line
        (10**15, 1, 10**11),  # large amounts stay exact (no floats)
    ],
)
def test_platform_fee_rounds_half_up(line_amount: int, bps: int, fee: int) -> None:
    assert platform_fee(line_amount, bps) == fee


@pytest.mark.parametrize(
    ("line_amount", "bps"), [(-1, 1000), (100, -1), (100, 10001), (100.0, 1000), (100, 10.5)]
)
def test_platform_fee_refuses_what_is_not_money(line_amount, bps) -> None:
    with pytest.raises(ValueError):
        platform_fee(line_amount, bps)


SELLER = uuid.UUID("0190d1a2-0000-7000-8000-000000000001")
OTHER_SELLER = uuid.UUID("0190d1a2-0000-7000-8000-000000000002")
CATEGORY_RATES = {"Shoes": 1200, "Shoes > Running": 800, "Shoes > Running > Trail": 500, "Books": 300}


def rate(category: str, seller_id: uuid.UUID = OTHER_SELLER, seller_rates: dict | None = None) -> int:
    return take_rate_for(
        seller_id=seller_id,
        category=category,
        default_bps=1000,
        seller_rates=seller_rates or {str(SELLER): 250},
        category_rates=CATEGORY_RATES,
    )


def test_a_sellers_own_rate_wins_over_every_category() -> None:
    assert rate("Shoes > Running > Trail", seller_id=SELLER) == 250


def test_the_longest_matching_category_path_wins() -> None:
    assert rate("Shoes > Running > Trail > Ultra") == 500
    assert rate("Shoes > Running > Road") == 800
    assert rate("Shoes > Sandals") == 1200


def test_category_prefixes_count_whole_levels() -> None:
    assert rate("Shoes > Running Spikes") == 1200  # "Running" is not a prefix of "Running Spikes"
    assert rate("Shoestrings") == 1000
    assert rate("Shoes") == 1200  # a deeper rule does not apply to its parent


def test_category_matching_ignores_case_and_spacing() -> None:
    assert rate("shoes>RUNNING >  trail") == 500


def test_the_default_applies_when_nothing_matches() -> None:
    assert rate("Garden > Tools") == 1000
    assert rate("") == 1000


def test_a_seller_rate_of_zero_still_wins() -> None:
    assert rate("Shoes", seller_id=SELLER, seller_rates={str(SELLER): 0}) == 0


def split(line: dict, refund_quantity: int) -> RefundSplit:
    return refund_split(**line, refund_quantity=refund_quantity)


def refund_in_steps(quantity: int, line_amount: int, line_fee: int, steps: list[int]) -> list[RefundSplit]:
    """Refund a line in the given steps, keeping the line's running totals as the orders code would."""
    line = {
        "quantity": quantity,
        "line_amount": line_amount,
        "line_fee": line_fee,
        "refunded_quantity": 0,
        "refunded_amount": 0,
        "refunded_fee": 0,
    }
    splits = []
    for step in steps:
        done = split(line, step)
        splits.append(done)
        line["refunded_quantity"] += step
        line["refunded_amount"] += done.amount
        line["refunded_fee"] += done.platform_fee_amount
    return splits


def test_refunding_awkward_units_one_by_one_returns_the_line_exactly() -> None:
    # 3 x 333 = 999 with a 10% fee of 100: the fee does not divide by 3.
    splits = refund_in_steps(3, 999, 100, [1, 1, 1])
    assert splits == [RefundSplit(333, 33, 300), RefundSplit(333, 33, 300), RefundSplit(333, 34, 299)]
    assert sum(s.amount for s in splits) == 999
    assert sum(s.platform_fee_amount for s in splits) == 100
    assert sum(s.transfer_reversal_amount for s in splits) == 899


def test_a_partial_refund_then_the_rest_returns_the_line_exactly() -> None:
    first, rest = refund_in_steps(3, 999, 100, [2, 1])
    assert first == RefundSplit(amount=666, platform_fee_amount=66, transfer_reversal_amount=600)
    assert rest == RefundSplit(amount=333, platform_fee_amount=34, transfer_reversal_amount=299)


def compositions(n: int):
    """Every way of refunding n units in steps: [n], [1, n - 1], ..., [1, 1, ..., 1]."""
    if n == 0:
        yield []
    for first in range(1, n + 1):
        for rest in compositions(n - first):
            yield [first, *rest]


def test_every_way_of_refunding_small_lines_is_exact_and_never_pays_the_seller() -> None:
    for quantity in range(1, 6):
        for line_amount in range(13):
            for line_fee in range(line_amount + 1):
                for steps in compositions(quantity):
                    splits = refund_in_steps(quantity, line_amount, line_fee, steps)
                    case = (quantity, line_amount, line_fee, steps)
                    assert sum(s.amount for s in splits) == line_amount, case
                    assert sum(s.platform_fee_amount for s in splits) == line_fee, case
                    assert all(s.transfer_reversal_amount >= 0 for s in splits), case


def test_a_unit_that_refunds_nothing_takes_no_fee_back() -> None:
    # 5 units for 3 cents in all, fee 2 cents. The plain floors would put a fee cent on the third unit,
    # which refunds 0 cents: the seller would have to be paid a cent. The second unit carries it instead.
    splits = refund_in_steps(5, 3, 2, [1, 1, 1, 1, 1])
    assert [(s.amount, s.platform_fee_amount) for s in splits] == [(0, 0), (1, 1), (0, 0), (1, 0), (1, 1)]


def test_the_fee_part_does_not_depend_on_how_earlier_fee_refunds_are_counted() -> None:
    # The orders code may recompute the fee already refunded from the units instead of summing it.
    for quantity, line_amount, line_fee in [(3, 999, 100), (5, 3, 2), (4, 1001, 1001), (7, 50, 13)]:
        line = {"quantity": quantity, "line_amount": line_amount, "line_fee": line_fee}
        for done in range(quantity):
            for more in range(1, quantity - done + 1):
                common = line | {"refunded_quantity": done, "refunded_amount": line_amount * done // quantity}
                summed = sum(
                    s.platform_fee_amount
                    for s in refund_in_steps(quantity, line_amount, line_fee, [1] * done)
                )
                recomputed = line_fee * done // quantity
                assert refund_split(**common, refunded_fee=summed, refund_quantity=more) == refund_split(
                    **common, refunded_fee=recomputed, refund_quantity=more
                )


def test_refunding_more_units_than_remain_is_refused() -> None:
    line = {
        "quantity": 3,
        "line_amount": 999,
        "line_fee": 100,
        "refunded_quantity": 2,
        "refunded_amount": 666,
        "refunded_fee": 66,
    }
    with pytest.raises(ValueError, match="only 1 of 3 remain"):
        split(line, 2)
    with pytest.raises(ValueError, match="at least 1"):
        split(line, 0)
