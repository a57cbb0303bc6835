"""The `ucp` object every answer starts with: the version the request was answered in and the
capabilities at work in this answer, in the form of that version."""

from __future__ import annotations

from market.protocols.ucp import models
from market.protocols.ucp.profile import payment_handlers

CHECKOUT = ("dev.ucp.shopping.checkout", "dev.ucp.shopping.fulfillment")
ORDER = ("dev.ucp.shopping.order",)
SEARCH = ("dev.ucp.shopping.catalog.search",)
LOOKUP = ("dev.ucp.shopping.catalog.lookup",)


def envelope(
    version: str, capabilities: tuple[str, ...], *, handler_id: str | None = None
) -> models.Envelope:
    """`handler_id`: for answers that name how to pay (checkouts), the id of Agora's payment handler."""
    if version < "2026-04-08":  # 2026-01-11 lists capabilities by name and has no payment_handlers here
        return models.Envelope(
            version=version,
            capabilities=[models.NamedVersion(name=name, version=version) for name in capabilities],
        )
    return models.Envelope(
        version=version,
        capabilities={name: [models.VersionRef(version=version)] for name in capabilities},
        payment_handlers=payment_handlers(version, handler_id) if handler_id else None,
    )
