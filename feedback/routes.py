"""The event API's edge: clients report the interactions only they can see (a shopper clicking a result);
the rules are in `feedback.interactions`."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, post
from litestar.params import JSONBody

from feedback.interactions import record_interactions
from feedback.schemas import EventBatchIn, EventBatchResult
from market.core.dependencies import ITEMS_CHECKED_ONE_BY_ONE, AppSettings, Pool
from market.core.errors import TooLarge


class EventController(Controller):
    path = "/v1/events"
    tags = ("events",)

    @post(
        "/",
        status_code=200,
        summary="Report clicks on search results, a batch at a time",
        description=(
            'Body: `{"events": [EventIn, ...]}`, at most AGORA_MAX_BATCH_ITEMS (1,000) events. Only `click` '
            "is sent by clients; impressions, carts, checkouts, purchases and refunds are recorded by the "
            "server itself. Idempotent by `event_id`: a retried event is counted in `duplicates` and "
            "stored once. Each refused event is listed with its `index`, `where` and `message`, and does "
            "not stop the others."
        ),
        opt={ITEMS_CHECKED_ONE_BY_ONE: True},
    )
    async def record(
        self, data: JSONBody[EventBatchIn], request: Request, pool: Pool, settings: AppSettings
    ) -> EventBatchResult:
        if len(data.events) > settings.max_batch_items:
            raise TooLarge(
                "batch_too_large",
                f"{len(data.events)} events in one request; the limit is {settings.max_batch_items}.",
                where="body.events",
            )
        # Impressions are written in the background by the node that answered the search; on a node that
        # does not search there is nothing queued here to wait for.
        impressions = getattr(request.app.state, "impressions", None)
        return await record_interactions(
            pool,
            data.events,
            attribution_window=timedelta(hours=settings.attribution_window_hours),
            flush_impressions=impressions.flush if impressions is not None else None,
        )
