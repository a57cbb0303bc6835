"""The market's domain errors: what went wrong, where in the request, and why, with no HTTP in them.

Services raise these; callers that are not HTTP (the CLI, the shopping assistant's tools) catch them by
kind. Which status each kind answers with over HTTP is decided once, in `market.app.errors`.

    raise NotFound("product_not_found", "No product 'tr-1' in your catalog.", where="path.id")
"""

from __future__ import annotations

import re

import msgspec


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    """One of several faults of one request (a line of a cart, a field of a body)."""

    code: str
    message: str
    where: str | None = None


class DomainError(Exception):
    """A request the market refuses. `code` is for programs, `message` for people, `where` names the part
    of the request at fault (e.g. `body.email`), `details` lists several faults at once."""

    def __init__(
        self, code: str, message: str, *, where: str | None = None, details: list[ErrorDetail] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.where = where
        self.details = details


class InvalidInput(DomainError):
    """The request breaks a rule: a value out of range, a malformed body, an empty cart."""

    @classmethod
    def invalid(cls, where: str | None, message: str) -> InvalidInput:
        """The value at `where` breaks a rule that its type alone cannot express."""
        return cls("invalid_value", message, where=where)


class Unauthenticated(DomainError):
    """No credentials, or credentials that are not valid."""


class PaymentRefused(DomainError):
    """The payment method was refused or needs the payer's action."""


class Forbidden(DomainError):
    """Valid credentials, but not allowed to do this (a suspended seller)."""


class NotFound(DomainError):
    """What the request names does not exist, or not for this caller."""


class Conflict(DomainError):
    """The request clashes with the current state (stock, a taken email, an order already settled)."""


class InFlight(Conflict):
    """The same request is still being answered; asking again after `retry_after` seconds may succeed."""

    def __init__(self, code: str, message: str, *, retry_after: int = 1, where: str | None = None) -> None:
        super().__init__(code, message, where=where)
        self.retry_after = max(1, retry_after)


class Unprocessable(DomainError):
    """The request is well formed but cannot be taken as it is (a key reused with another body)."""


class NotAllowedNow(DomainError):
    """What the request asks is not possible any more in this state (canceling a completed checkout)."""


class TooLarge(DomainError):
    """A body, file or batch beyond a stated limit."""


class UnsupportedMediaType(DomainError):
    """A body in a format the route does not read."""


class RateLimited(DomainError):
    """Too many requests of one kind from one client in a window; asking again after `retry_after` seconds
    may succeed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__("rate_limited", message)
        self.retry_after = max(1, retry_after)


class ProviderUnavailable(DomainError):
    """An outside service (the payment provider) did not answer."""


class Unavailable(DomainError):
    """A part of the market is switched off on this node or not ready."""


class DatabaseUnavailable(Unavailable):
    """The database does not answer: it is restarting, or out of reach. Nothing the request asked for was
    acknowledged; asking again after `retry_after` seconds may succeed."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__(
            "database_unavailable", "The database is not available at the moment; try again shortly."
        )
        self.retry_after = max(1, retry_after)


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"(?:missing required field|unknown field) `(?P<name>[^`]+)`")


def split_msgspec_message(message: str) -> tuple[str, str | None]:
    """msgspec says `Expected int, got str - at $.price.amount`: that is what, and `price.amount` where.

    For a missing or unknown field, where is the field itself (`price.currency`), not its parent.
    """
    match = _AT.match(message)
    what = match["what"] if match else message
    path = (match["path"] or "").lstrip(".") if match else ""
    named = _NAMED_FIELD.search(what)
    if named:
        path = f"{path}.{named['name']}" if path else named["name"]
    return what, path or None
