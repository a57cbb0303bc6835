"""The dashboards: the operator's page at `/operator` and a seller's at `/seller`.

Each page is static HTML plus scripts (`static/`) that ask for the credential once (the operator token or
the seller's API key, kept in the tab's sessionStorage) and draw the JSON APIs (`market.metrics.routes`,
`market.metrics.demand_routes`) with plotly.js. plotly.js is served from the installed `plotly` Python
package, not a CDN, so the dashboards work on a machine without internet; the page names the package's
version in the address, so browsers may keep the 4.8 MB file for good.

No inline script runs and nothing loads from another origin (Content-Security-Policy). Inline *styles* are
allowed because plotly.js sets its modebar and hover styles through a <style> element it creates.
"""

from __future__ import annotations

from importlib import metadata, util
from importlib.resources import files
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File
from litestar.static_files import create_static_files_router

ASSETS = "/dashboards/assets"
_STATIC = files("market.metrics").joinpath("static")


def _plotly_js() -> Path:
    # Found without importing plotly (its Python side is not needed, only the bundled plotly.js).
    spec = util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed; the dashboards need its plotly.min.js")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js()
PLOTLY_URL = f"/dashboards/vendor/plotly-{metadata.version('plotly')}.min.js"

_POLICY = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]
CONTENT_SECURITY_POLICY = "; ".join(_POLICY)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",  # nosniff and no referrer: on every answer (market.app)
}


def _page(name: str) -> str:
    return _STATIC.joinpath(name).read_text(encoding="utf-8").replace("{{PLOTLY_URL}}", PLOTLY_URL)


_OPERATOR_HTML = _page("operator.html")
_SELLER_HTML = _page("seller.html")


@get("/operator", include_in_schema=False, media_type=MediaType.HTML)
async def operator_page() -> Response[str]:
    """The operator's dashboard: market figures, funnel, search quality, models, unmet demand."""
    return Response(_OPERATOR_HTML, media_type=MediaType.HTML, headers=_HEADERS)


@get("/seller", include_in_schema=False, media_type=MediaType.HTML)
async def seller_page() -> Response[str]:
    """A seller's dashboard: its funnel, revenue after fees, top queries, unmet demand in its categories."""
    return Response(_SELLER_HTML, media_type=MediaType.HTML, headers=_HEADERS)


@get(PLOTLY_URL, include_in_schema=False)
async def plotly_js() -> File:
    return File(
        PLOTLY_JS,
        media_type="text/javascript; charset=utf-8",
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


DASHBOARD_ROUTES = [
    operator_page,
    seller_page,
    plotly_js,
    create_static_files_router(
        ASSETS,
        [Path(str(_STATIC))],
        name="dashboard-assets",
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    ),
]
