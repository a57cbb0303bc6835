"""Validation of form-encoded request parameters, with Stripe's error messages and codes.

Values arrive as strings (or nested dicts/lists once localstripe has unflattened the form), so every
helper converts as well as checks, and names the offending parameter the way Stripe does (``a[b][c]``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping

from .errors import invalid, missing, unknown

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


def reject_unknown(data: Mapping, known: Iterable[str], prefix: str = "") -> None:
    known = set(known)
    for key in data:
        if key not in known:
            raise unknown(f"{prefix}[{key}]" if prefix else key)


def to_int(value, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer") from None
    if minimum is not None and number < minimum:
        raise invalid(param, f"This value must be greater than or equal to {minimum}.")
    if maximum is not None and number > maximum:
        raise invalid(param, f"This value must be less than or equal to {maximum}.")
    return number


def required(data: Mapping, key: str, param: str | None = None):
    value = data.get(key)
    if value is None or value == "":
        raise missing(param or key)
    return value


def string(value, param: str, *, max_length: int = 5000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(param, f"Invalid string: {value!r}")
    if len(value) > max_length:
        raise invalid(param, f"Invalid string: must be at most {max_length} characters")
    return value


def boolean(value, param: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(param, f"Invalid boolean: {value}")


def currency(value, param: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise invalid(param, f"Invalid currency: {value}. Stripe currencies are three-letter ISO codes.")
    return value.lower()


def email(value, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise invalid(param, f"Invalid email address: {value}", "email_invalid")
    return value


def url(value, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _URL.match(value):
        raise invalid(param, "Not a valid URL", "url_invalid")
    return value


def metadata(value, param: str = "metadata") -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; '' clears."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(param, "Invalid object")
    if len(value) > 50:
        raise invalid(param, "Metadata can have at most 50 keys.")
    for key, item in value.items():
        if len(key) > 40:
            raise invalid(f"{param}[{key}]", "Metadata keys can be at most 40 characters long.")
        if not isinstance(item, str):
            raise invalid(f"{param}[{key}]", "Metadata values must be strings.")
        if len(item) > 500:
            raise invalid(f"{param}[{key}]", "Metadata values can be at most 500 characters long.")
    return dict(value)


def list_of_dicts(value, param: str) -> list[dict]:
    # localstripe turns a[0][b]=... into a list; a lone dict means non-numeric indexes.
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid(param, "Invalid array")
    return value


def now() -> int:
    return int(time.time())
