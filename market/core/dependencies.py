"""The names every stage's route handlers may ask for; the app (`market.app.dependencies`) provides them.
Also the route options the app's edge reads.

async def handler(pool: Pool, settings: AppSettings) -> ...
"""

from __future__ import annotations

import asyncpg
from litestar.di import NamedDependency

from market.core.settings import Settings

Pool = NamedDependency[asyncpg.Pool]
AppSettings = NamedDependency[Settings]

# A route option, `opt={ITEMS_CHECKED_ONE_BY_ONE: True}`: the body is a batch whose items are checked for
# control characters one by one where they are read (one bad item is refused, not the batch), so the app's
# input guard (`market.app.input_guard`) checks the body's depth only.
ITEMS_CHECKED_ONE_BY_ONE = "items_checked_one_by_one"

# A route option, `opt={FLAT_ERRORS: True}`: a refusal also carries, beside `{"error": {...}}`, the flat
# fields the checkout protocols' clients read (`type`, `code`, `message`, `param`; ACP's error shape).
FLAT_ERRORS = "flat_errors"

# A route option, `opt={STRICT_JSON_TYPES: True}`: the body is read as its JSON types say (a quantity sent
# as "1" is refused, not taken as 1), where Litestar alone would convert it leniently.
STRICT_JSON_TYPES = "strict_json_types"
