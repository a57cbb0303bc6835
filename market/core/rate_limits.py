"""The limits a route may be counted against: a route names one in its `opt`; the app sets how many requests
each allows (`market.app.rate_limits`, from settings).

    @post("/", opt=rate_limits.SELLER_REGISTRATION)
"""

from __future__ import annotations

OPT_KEY = "rate_limit"
SELLER_REGISTRATION = {OPT_KEY: "seller_registration"}
KEY_ISSUE = {OPT_KEY: "key_issue"}  # adding a key and rotating one count alike
