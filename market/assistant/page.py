"""The chat page at `/`: one self-contained HTML page (inline CSS and JS, no external assets) that talks
to the conversation API (`market.assistant.routes`) as a shopper would.

The page's script and style are allowed by their hashes in a strict Content-Security-Policy; product
images may come from any http(s) address, since they are the sellers' URLs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from litestar import MediaType, Response, get

_HTML = files("market.assistant").joinpath("static/chat.html").read_text(encoding="utf-8")


def _hashes(tag: str) -> str:
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", _HTML, flags=re.DOTALL)
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in found
    )


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        f"script-src {_hashes('script')}",
        f"style-src {_hashes('style')}",
        "img-src http: https: data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


@get("/", include_in_schema=False, media_type=MediaType.HTML)
async def chat_page() -> Response[str]:
    return Response(
        _HTML,
        media_type=MediaType.HTML,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
