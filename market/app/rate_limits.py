"""Rate limits on the routes that create credentials (seller registration, API keys), per client address.

Litestar's own rate-limit middleware counts the requests (per client address in the app's memory store, in a
window that starts at the client's first request; each worker process counts its own); a route takes part by naming its limit in `opt`
(`market.core.rate_limits`). A request past the limit is refused before its handler runs, as the domain
error `RateLimited`: a 429 in Agora's error shape with `Retry-After`.
"""

from __future__ import annotations

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from market.core import rate_limits
from market.core.errors import RateLimited
from market.core.settings import Settings

WINDOW = "hour"


class _NamedLimit(RateLimitMiddleware):
    """Litestar's middleware for the routes naming one limit; every other route passes untouched."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig, name: str, what: str) -> None:
        super().__init__(app, config)
        self.name, self.what = name, what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["route_handler"].opt.get(rate_limits.OPT_KEY) != self.name:
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            wait = int((exc.headers or {}).get(self.config.rate_limit_reset_header_key, "1"))
            raise RateLimited(
                f"Too many {self.what} from this address: at most {self.max_requests} per {WINDOW}; "
                f"try again in {wait} seconds.",
                retry_after=wait,
            ) from None


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    """The app's rate limits, sized by `settings`."""
    limits = [
        (rate_limits.SELLER_REGISTRATION, settings.seller_registrations_per_hour, "seller registrations"),
        (rate_limits.KEY_ISSUE, settings.key_issues_per_hour, "API keys issued"),
    ]
    middleware = []
    for opt, per_window, what in limits:
        name = opt[rate_limits.OPT_KEY]
        # A store per limit: Litestar keys its counts by client address alone.
        config = RateLimitConfig(rate_limit=(WINDOW, per_window), store=f"rate_limit_{name}")
        middleware.append(DefineMiddleware(_NamedLimit, config=config, name=name, what=what))
    return middleware
