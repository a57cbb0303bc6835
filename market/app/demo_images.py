"""The demo's product images: a tile per kind of product and colour, drawn as SVG when the demo is seeded
and served by the app itself at `GET /media/demo/{name}.svg`.

The demo catalog names each product's image after its subcategory and colour
(`market.taxonomy.demo_catalog.image_name`, e.g. `tents-forest-green`). `write_demo_images` draws every
such tile of the vocabulary (a gradient in the colour's swatch, the category's name and the colour's) into
`<data dir>/demo-images`; `demo_image` serves them from there. Only plain names (`tents-forest-green.svg`)
are looked up, so no request reaches outside that directory; anything else is 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from litestar import get
from litestar.params import FromPath
from litestar.response import File

from market.core.dependencies import AppSettings
from market.core.errors import NotFound
from market.taxonomy.demo_catalog import image_name
from market.taxonomy.vocabulary import ROOTS, SWATCHES

IMAGES_DIR = "demo-images"  # under the data dir
MEDIA_PATH = "/media/demo"
WIDTH, HEIGHT = 400, 300  # 4:3, as the chat page's cards show them
NO_COLOR = "#4c5b71"  # the tile of products that have no colour: a quiet slate
_FILE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\.svg")
_QUOTE = {'"': "&quot;"}
_SVG = Template(
    """<svg xmlns="http://www.w3.org/2000/svg" width="$width" height="$height" viewBox="0 0 $width $height" \
role="img" aria-label="$label">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="$light"/><stop offset="1" stop-color="$base"/></linearGradient></defs>
<rect width="$width" height="$height" fill="url(#g)"/>
<circle cx="340" cy="58" r="110" fill="#ffffff" fill-opacity="0.14"/>
<circle cx="52" cy="270" r="70" fill="#ffffff" fill-opacity="0.10"/>
<g fill="$ink" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" text-anchor="middle">
<text x="$middle" y="112" font-size="15" letter-spacing="3" fill-opacity="0.75">$root</text>
<text x="$middle" y="162" font-size="$size" font-weight="700">$category</text>
<text x="$middle" y="202" font-size="19" fill-opacity="0.85">$color</text>
</g>
</svg>
"""
)
_HEADERS = {
    # An SVG is a document: this one may draw, and nothing else (no scripts, no loads).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "public, max-age=86400",
}


@dataclass(frozen=True)
class Tile:
    name: str  # the file's name without `.svg`
    root: str  # "Outdoor"
    category: str  # the subcategory's last part: "Tents"
    color: str | None  # "forest green"; None for kinds of product that have no colour


def image_base(public_url: str) -> str:
    """The address the products' images are served under, given the one shoppers reach this server at."""
    return public_url.rstrip("/") + MEDIA_PATH


def tiles() -> Iterator[Tile]:
    """Every tile the demo catalog's products can name."""
    for root in ROOTS:
        for subcategory in root.subcategories:
            colors = subcategory.attributes.get("color") or (None,)
            if isinstance(colors, Mapping):  # colours that depend on the gender: each of them
                colors = tuple(dict.fromkeys(color for values in colors.values() for color in values))
            category = subcategory.path.rsplit(" > ", 1)[-1]
            for color in colors:
                yield Tile(image_name(subcategory, color), root.name, category, color)


def write_demo_images(directory: Path) -> int:
    """Draw every tile into `directory` (files already as drawn are left alone); returns how many there are."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for tile in tiles():
        path = directory / f"{tile.name}.svg"
        drawn = draw(tile)
        if not path.is_file() or path.read_text(encoding="utf-8") != drawn:
            path.write_text(drawn, encoding="utf-8")
        count += 1
    return count


def draw(tile: Tile) -> str:
    """The tile as an SVG document: the colour from light to full, its names in a readable ink."""
    base = SWATCHES[tile.color] if tile.color else NO_COLOR
    return _SVG.substitute(
        width=WIDTH,
        height=HEIGHT,
        middle=WIDTH // 2,
        label=escape(f"{tile.category}, {tile.color}" if tile.color else tile.category, _QUOTE),
        light=_mix(base, "#ffffff", 0.35),
        base=base,
        ink=_ink(_mix(base, "#ffffff", 0.18)),  # against the colour behind the words, mid-gradient
        root=escape(tile.root.upper()),
        category=escape(tile.category),
        size=40 if len(tile.category) <= 12 else 32 if len(tile.category) <= 16 else 28,
        color=escape(tile.color or ""),
    )


@get(MEDIA_PATH + "/{name:str}", include_in_schema=False, sync_to_thread=False)
def demo_image(name: FromPath[str], settings: AppSettings) -> File:
    """One of the demo's images, by its file name."""
    path = settings.data_dir / IMAGES_DIR / name
    if not _FILE_NAME.fullmatch(name) or not path.is_file():
        raise NotFound("image_not_found", f"No demo image {name!r}.", where="path.name")
    return File(path, media_type="image/svg+xml", content_disposition_type="inline", headers=_HEADERS)


def _mix(color: str, other: str, share: float) -> str:
    """`color` with `share` of `other` mixed in (both #rrggbb)."""
    a, b = _rgb(color), _rgb(other)
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def _ink(background: str) -> str:
    """Dark or white words, whichever contrasts more with `background` (WCAG contrast ratio)."""
    dark, lum = "#1a1f36", _luminance(background)
    on_dark = (lum + 0.05) / (_luminance(dark) + 0.05)
    on_white = 1.05 / (lum + 0.05)
    return dark if on_dark > on_white else "#ffffff"


def _luminance(color: str) -> float:
    """Relative luminance (WCAG), 0 for black to 1 for white."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(value) for value in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
