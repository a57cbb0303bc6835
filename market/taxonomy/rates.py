"""The demo's exchange-rate table, loaded from `data/exchange_rates.json`: fixed and dated, installed by
`agora demo` when the operator has set none (an operator sets real ones with PUT /v1/operator/exchange-rates).
"""

from __future__ import annotations

import json
from importlib.resources import files

from market.core.money import ExchangeRates

_FILE = files("market.taxonomy").joinpath("data", "exchange_rates.json")


def demo_exchange_rates() -> ExchangeRates:
    raw = json.loads(_FILE.read_text(encoding="utf-8"))
    return ExchangeRates.parse(raw["as_of"], raw["base"], raw["rates"], where="exchange_rates.json")
