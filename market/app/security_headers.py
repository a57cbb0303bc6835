"""Security headers on every answer, in one place: Litestar's `before_send` hook sees every response the app
sends, a route's, an error's, a 404 for a path no route has, a static file.

- `X-Content-Type-Options: nosniff`: a browser takes a body for the type it is labelled with (a JSON answer
  echoing a shopper's text is never run as a script or drawn as HTML);
- `Referrer-Policy: no-referrer`: no address of Agora's (they hold ids, cursors, order numbers) is told to
  the sites a page links to;
- `Content-Security-Policy`: a page's own, set by the page, since only it knows what it loads (the chat page,
  the dashboards, the API docs, the checkout pages); anything else may load nothing at all. Either way no
  other site may frame it (`frame-ancestors 'none'`, added to a page's policy that does not say it).
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CSP = "Content-Security-Policy"
NOTHING_LOADS = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar's `before_send` hook: the headers go onto each response as it starts."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers[name] = value
    policy = headers.get(CSP)
    if policy is None:
        headers[CSP] = NOTHING_LOADS
    elif "frame-ancestors" not in policy:
        headers[CSP] = f"{policy.rstrip('; ')}; frame-ancestors 'none'"
