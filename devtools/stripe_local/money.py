"""Amounts in minor units, as Stripe counts them, formatted for people."""

from __future__ import annotations

# Currencies whose smallest unit is the whole unit (Stripe's "zero-decimal" list) or a thousandth.
ZERO_DECIMAL = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)
THREE_DECIMAL = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩"}


def exponent(currency: str) -> int:
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def format_amount(amount: int, currency: str) -> str:
    """1234 usd -> '$12.34'; currencies without a symbol get their code after the number."""
    digits = exponent(currency)
    value = f"{amount / 10**digits:,.{digits}f}"
    symbol = SYMBOLS.get(currency.lower())
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"
