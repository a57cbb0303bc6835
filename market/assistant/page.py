"""The chat page at `/` and its script at `/chat.js`: a page with no outside assets that talks to the
conversation API (`market.assistant.routes`), the cart API and the event API as a shopper would.

The page's style is allowed by its hash and its script by its origin, in a strict Content-Security-Policy;
product images may come from any http(s) address, since they are the sellers' URLs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from litestar import MediaType, Response, get

_STATIC = files("market.assistant").joinpath("static")
_HTML = _STATIC.joinpath("chat.html").read_text(encoding="utf-8")
_SCRIPT = _STATIC.joinpath("chat.js").read_text(encoding="utf-8")


def _hashes(tag: str) -> str:
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", _HTML, flags=re.DOTALL)
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in found
    )


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {_hashes('style')}",
        "img-src http: https: data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
_HEADERS = {"Cache-Control": "no-cache"}  # nosniff and no referrer: on every answer (market.app)


@get("/", include_in_schema=False, media_type=MediaType.HTML)
async def chat_page() -> Response[str]:
    return Response(
        _HTML,
        media_type=MediaType.HTML,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, **_HEADERS},
    )


@get("/chat.js", include_in_schema=False, media_type="text/javascript")
async def chat_script() -> Response[str]:
    return Response(_SCRIPT, media_type="text/javascript; charset=utf-8", headers=_HEADERS)
