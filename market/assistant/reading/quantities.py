"""Attribute values as quantities with units ("20 L", "1,200 lumens", "15°F", "2-person", "65W"), read with
`pint`, so that products can be compared along any of them: "which is bigger" compares 28 L with 40 L, "which
keeps me warmer" compares 15°F with 30°F, whatever units each seller wrote.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

import pint

# Counts sellers write as units: "2-person", "2-4 players", "120 pages", "1000 pieces".
_COUNT_UNITS = ("person", "piece", "page", "month", "year")
_NUMBER = r"\d+(?:[.,]\d+)*"
_RANGE = re.compile(rf"^(?P<low>{_NUMBER})\s*[-–]\s*(?P<high>{_NUMBER})\s*(?P<unit>.*)$")
_VALUE = re.compile(rf"^(?P<number>{_NUMBER})\s*-?\s*(?P<unit>.*)$")
_ALIASES = {
    "°f": "degF", "°c": "degC", "f": "degF", "c": "degC", "in": "inch", "in.": "inch", '"': "inch",
    "ft": "foot", "qt": "quart", "l": "liter", "ml": "milliliter", "lb": "pound", "lbs": "pound",
    "kg": "kilogram", "g": "gram", "oz": "ounce", "w": "watt", "kw": "kilowatt", "mm": "millimeter",
    "cm": "centimeter", "m": "meter", "mah": "milliampere_hour", "h": "hour", "hr": "hour", "hrs": "hour",
    "min": "minute", "mins": "minute", "kgs": "kilogram", "kilo": "kilogram", "kilos": "kilogram",
    "": "dimensionless",
}  # fmt: skip


@functools.cache
def _units() -> pint.UnitRegistry:
    units = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for count in _COUNT_UNITS:
        units.define(f"{count} = [{count}] = {count}s")
    units.define("player = person = players")  # "6 people" play a "2-6 players" game
    return units


def parse_range(value: object) -> tuple[pint.Quantity, pint.Quantity] | None:
    """Both ends of a range ("2-6 players": 2 and 6); a single value is a range of one."""
    text = " ".join(str(value).strip().split())
    match = _RANGE.match(text)
    high = parse(text)
    if match is None or high is None:
        return (high, high) if high is not None else None
    low = parse(f"{match['low']} {match['unit']}")
    return (low, high) if low is not None else (high, high)


def parse(value: object) -> pint.Quantity | None:
    """A quantity from an attribute value; a range ("2-4 players", "60-90 minutes") counts as its upper end.
    None for text that is not a quantity ("ripstop nylon")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _units().Quantity(float(value), "dimensionless")
    text = " ".join(str(value).strip().split())
    match = _RANGE.match(text) or _VALUE.match(text)
    if match is None:
        return None
    number = match["high"] if "high" in match.groupdict() else match["number"]
    unit = _unit_name(match["unit"])
    if unit is None:
        return None
    try:
        # Floats: attribute values are compared, never summed as money, and pint's offset units (°F) need them.
        return _units().Quantity(float(number.replace(",", "")), unit)
    except (pint.UndefinedUnitError, pint.DimensionalityError, ValueError):
        return None


def _unit_name(unit: str) -> str | None:
    unit = unit.strip().lower().rstrip(".")
    if unit in _ALIASES:
        return _ALIASES[unit]
    if unit in ("players", "player"):
        return "player"
    if unit.endswith("s") and unit[:-1] in _COUNT_UNITS:
        return unit[:-1]
    if unit in _COUNT_UNITS or unit in (
        "lumen",
        "lumens",
        "watt",
        "watts",
        "liter",
        "liters",
        "litre",
        "litres",
    ):
        return {
            "lumens": "lumen",
            "watts": "watt",
            "liters": "liter",
            "litres": "liter",
            "litre": "liter",
        }.get(unit, unit)
    if not re.fullmatch(r"[a-z_]+", unit):
        return None
    try:
        _units().Unit(unit)
    except (pint.PintError, AssertionError, ValueError, TypeError, AttributeError):  # text that is no unit
        return None
    return unit


def comparable(quantities: list[pint.Quantity]) -> list[Decimal] | None:
    """The quantities in one unit (the first one's), for ordering; None when they cannot be compared
    (a volume against a weight)."""
    if not quantities:
        return None
    unit = quantities[0].units
    try:
        return [Decimal(str(round(quantity.to(unit).magnitude, 6))) for quantity in quantities]
    except (pint.PintError, TypeError, ValueError):
        return None
