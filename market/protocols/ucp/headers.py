"""The request headers of UCP's REST binding, as route parameters (documented in the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from market.protocols.ucp.agent import HEADER

AgentHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        description='the calling platform\'s profile, an RFC 8941 dictionary: profile="https://..."; '
        'optionally with its UCP version: profile="..."; version="2026-04-08"',
        max_length=2000,
    ),
]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        description="Required on every POST and PUT; the same key with the same body answers the first answer.",
        min_length=1,
        max_length=255,
    ),
]
