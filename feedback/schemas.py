"""The event API's payloads: interactions clients send, the answer to a batch, and one exported event.

Clients send only what the server cannot see itself: a shopper clicking a result. Everything else that
happens in Agora (results shown, carts, checkouts, payments, refunds, the assistant's reading of intent) is
recorded by the server where it happens, so it is never taken from a client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta, Struct

EventType = Literal["impression", "click", "add_to_cart", "checkout_started", "purchase", "refund", "intent"]
ClientEventType = Literal["click"]

# Why a client may not send each of the other types: where the server records it instead.
SERVER_RECORDED: dict[str, str] = {
    "impression": "impressions are recorded by the server as it answers a search (POST /v1/search)",
    "add_to_cart": "add_to_cart is recorded by the server when an item is put in a cart "
    "(PUT /v1/carts/{cart_id}/items/{product_id})",
    "checkout_started": "checkout_started is recorded by the server when a checkout starts "
    "(POST /v1/carts/{cart_id}/checkout)",
    "purchase": "purchases are recorded by the server when a payment succeeds",
    "refund": "refunds are recorded by the server when a refund is made",
    "intent": "intents are recorded by the server's shopping assistant",
}


class EventIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """One interaction as a client sends it.

    `event_id` is the idempotency key: sending the same event again (a retry) stores it once. Without
    `occurred_at` the time of receipt is used; with it, it must carry a timezone, be no more than 5 minutes
    ahead of the server's clock and no older than the attribution window. `product_id` and `position` are
    the result as shown in the search `search_id` (positions count from 1 across pages); without
    `session_id`, the session of that search is used.
    """

    event_id: UUID
    type: ClientEventType
    search_id: UUID
    product_id: Annotated[int, Meta(ge=1, le=2**63 - 1)]
    position: Annotated[int, Meta(ge=1, le=100_000)]
    occurred_at: Annotated[datetime, Meta(tz=True)] | None = None
    session_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class EventBatchIn(Struct, forbid_unknown_fields=True):
    """`events`: objects shaped as `EventIn`. Each is checked on its own, so that one bad event does not
    cost the good ones of the same batch."""

    events: Annotated[list[Any], Meta(min_length=1)]


class RejectedEvent(Struct):
    """Why one event of a batch was refused. `index` counts from 0; `where` names the field at fault."""

    index: int
    event_id: str | None
    where: str
    message: str


class EventBatchResult(Struct):
    """`accepted` events were stored now; `duplicates` had been stored before (or twice in this batch)."""

    accepted: int
    duplicates: int
    rejected: list[RejectedEvent]


class ExportedEvent(Struct):
    """One line of an event export: every column of the log, `payload` as stored."""

    event_id: UUID
    type: str
    occurred_at: datetime
    received_at: datetime
    session_id: str | None
    search_id: UUID | None
    product_id: int | None
    position: int | None
    payload: msgspec.Raw
