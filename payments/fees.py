"""The platform's cut of an order line, which rate applies, and how a refund divides between the platform
and the seller.

Pure integer arithmetic on minor units (cents): no floats, no I/O, so every rule here can be checked by
hand. Basis points (bps) are hundredths of a percent: 1000 bps = 10%, 10000 bps = everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

import msgspec

BPS_PER_WHOLE = 10_000
CATEGORY_SEPARATOR = ">"


def platform_fee(line_amount: int, bps: int) -> int:
    """The platform's fee on a line of `line_amount` minor units at `bps` basis points.

    Rounding rule: round half up, in integers only. line_amount * bps / 10000 is exact in rationals; adding
    half the divisor (5000) before the floor division rounds a remainder of exactly one half upwards, so
    1 cent at 5000 bps (0.5 cent) is 1 cent and 1 cent at 4999 bps (0.4999 cent) is 0.
    """
    _require_amount("line_amount", line_amount)
    _require_bps(bps)
    return (line_amount * bps + BPS_PER_WHOLE // 2) // BPS_PER_WHOLE


def take_rate_for(
    *,
    seller_id: UUID,
    category: str,
    default_bps: int,
    seller_rates: Mapping[str, int],
    category_rates: Mapping[str, int],
) -> int:
    """The take rate (bps) for a line: the seller's own rate wins; else the rate of the longest category
    path that is a prefix of the product's category; else the default.

    Category prefixes count whole levels, case-insensitively: "Shoes > Running" is a prefix of
    "shoes > running > trail" but not of "Shoes > Running Spikes". `seller_rates` is keyed by the seller id
    as text, as take_rates.rates() returns it.
    """
    own_rate = seller_rates.get(str(seller_id))
    if own_rate is not None:
        return own_rate

    levels = category_levels(category)
    best_bps, best_depth = default_bps, 0
    for path, bps in category_rates.items():
        prefix = category_levels(path)
        if best_depth < len(prefix) <= len(levels) and levels[: len(prefix)] == prefix:
            best_bps, best_depth = bps, len(prefix)
    return best_bps


def category_levels(path: str) -> tuple[str, ...]:
    """'Shoes > Running' -> ('shoes', 'running'): the comparable form of a category path."""
    return tuple(level.strip().casefold() for level in path.split(CATEGORY_SEPARATOR) if level.strip())


class RefundSplit(msgspec.Struct, frozen=True):
    """What one refund of some units of a line moves: `amount` back to the shopper, of which
    `platform_fee_amount` comes out of the platform's fee and `transfer_reversal_amount` back from the seller."""

    amount: int
    platform_fee_amount: int
    transfer_reversal_amount: int


def refund_split(
    *,
    quantity: int,
    line_amount: int,
    line_fee: int,
    refunded_quantity: int,
    refunded_amount: int,
    refunded_fee: int,
    refund_quantity: int,
) -> RefundSplit:
    """Split the refund of `refund_quantity` more units of a line of `quantity` units.

    Cumulative rounding: once k units are refunded, floor(line_amount * k / quantity) has gone back in
    total, and this refund is the step from what was refunded before to that. Refunding every unit, in any
    number of steps, therefore returns exactly `line_amount`, never a cent more or less (rounding each
    step on its own would let the cents drift). The fee's part follows fee_refunded_after(), which comes to
    exactly `line_fee` in the same way.

    The fee's part depends on the units alone, so `refunded_fee` (what earlier refunds of the line gave up
    of the fee) is not needed to compute it: a caller may pass the sum it stored or recompute it, and the
    split is the same.

    Raises ValueError when fewer than one unit, or more than remain, are asked for.
    """
    remaining = quantity - refunded_quantity
    if not 0 <= line_fee <= line_amount:
        raise ValueError(f"line_fee {line_fee} must be between 0 and line_amount {line_amount}")
    if refund_quantity < 1:
        raise ValueError(f"refund_quantity must be at least 1, not {refund_quantity}")
    if refund_quantity > remaining:
        raise ValueError(f"cannot refund {refund_quantity} unit(s): only {remaining} of {quantity} remain")

    units_after = refunded_quantity + refund_quantity
    amount = line_amount * units_after // quantity - refunded_amount
    if amount < 0:
        # Only possible when earlier refunds of this line were not split by this rule.
        raise ValueError(f"the line's refunded amount ({refunded_amount}) does not follow the refund rule")
    line = {"quantity": quantity, "line_amount": line_amount, "line_fee": line_fee}
    fee = fee_refunded_after(units_after, **line) - fee_refunded_after(refunded_quantity, **line)
    fee = min(fee, amount)  # equal whenever earlier refunds followed the rule; the seller is never paid
    return RefundSplit(amount=amount, platform_fee_amount=fee, transfer_reversal_amount=amount - fee)


def fee_refunded_after(units: int, *, quantity: int, line_amount: int, line_fee: int) -> int:
    """How much of a line's fee has gone back to the shopper once `units` of its `quantity` are refunded.

    Mostly floor(line_fee * units / quantity). But the seller cannot receive money through a transfer
    reversal, so no refund may take back more fee than it refunds, and the plain floors can (5 units for 3
    cents in all, fee 2 cents: the third unit refunds 0 cents while floor(2 * k / 5) steps from 0 to 1).
    So the seller's side is fixed first: after k units it gives back the least of its plain targets
    floor(line_amount * j / quantity) - floor(line_fee * j / quantity) for every j from k to quantity, a
    figure that never decreases as units are refunded, and the fee's side is the rest of what the shopper
    got back, which never decreases either. At k = quantity the fee's side is exactly `line_fee`.
    """
    seller_gives_back = min(
        line_amount * j // quantity - line_fee * j // quantity for j in range(units, quantity + 1)
    )
    return line_amount * units // quantity - seller_gives_back


def _require_amount(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer of minor units, not {value!r}")


def _require_bps(bps: int) -> None:
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= BPS_PER_WHOLE:
        raise ValueError(f"bps must be an integer from 0 to {BPS_PER_WHOLE}, not {bps!r}")
