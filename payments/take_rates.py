"""The platform's take rates where they differ from the default: per seller, or per category path.

Which rate applies to a line is decided by fees.take_rate_for; this module keeps the rates and hands them
over in the shape it wants. Keys are stored in one canonical form so that a lookup never misses on spelling:
a seller id as lower-case UUID text, a category path as its levels joined by " > " (case is kept for
display; matching ignores it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
import msgspec

from payments import store
from payments.fees import BPS_PER_WHOLE, CATEGORY_SEPARATOR

Scope = Literal["seller", "category"]
SCOPES: tuple[Scope, ...] = ("seller", "category")


class TakeRate(msgspec.Struct, frozen=True):
    scope: Scope
    key: str
    bps: int
    updated_at: datetime


async def list_rates(conn: asyncpg.Connection) -> list[TakeRate]:
    return [
        TakeRate(scope=row["scope"], key=row["key"], bps=row["bps"], updated_at=row["updated_at"])
        for row in await store.take_rates(conn)
    ]


async def set_rate(conn: asyncpg.Connection, scope: Scope, key: str, bps: int) -> TakeRate:
    """Create or change a rate. Raises ValueError for an unknown scope, a malformed key or bps out of range."""
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= BPS_PER_WHOLE:
        raise ValueError(f"bps must be an integer from 0 to {BPS_PER_WHOLE}, not {bps!r}")
    row = await store.upsert_take_rate(conn, scope=scope, key=canonical_key(scope, key), bps=bps)
    return TakeRate(scope=row["scope"], key=row["key"], bps=row["bps"], updated_at=row["updated_at"])


async def delete_rate(conn: asyncpg.Connection, scope: Scope, key: str) -> bool:
    """Remove a rate (the default applies again); False when there was none."""
    return await store.delete_take_rate(conn, scope=scope, key=canonical_key(scope, key))


async def rates(conn: asyncpg.Connection) -> tuple[Mapping[str, int], Mapping[str, int]]:
    """(seller_rates, category_rates), as fees.take_rate_for takes them."""
    seller_rates: dict[str, int] = {}
    category_rates: dict[str, int] = {}
    for rate in await list_rates(conn):
        (seller_rates if rate.scope == "seller" else category_rates)[rate.key] = rate.bps
    return seller_rates, category_rates


def canonical_key(scope: str, key: str) -> str:
    if scope == "seller":
        try:
            return str(UUID(key.strip()))
        except ValueError:
            raise ValueError(f"a seller take rate is keyed by the seller's id, not {key!r}") from None
    if scope == "category":
        levels = [level.strip() for level in key.split(CATEGORY_SEPARATOR)]
        if not all(levels):
            raise ValueError(f"a category path is levels separated by '>', none empty, not {key!r}")
        return f" {CATEGORY_SEPARATOR} ".join(levels)
    raise ValueError(f"a take rate's scope is one of {', '.join(SCOPES)}, not {scope!r}")
