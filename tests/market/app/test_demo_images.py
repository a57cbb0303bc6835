"""The demo's product images: seeding the demo draws a tile for every kind of product and colour its catalog
can name, the products point at them where this server serves them, and the app serves them by plain name
only (anything else, a path reaching outside among them, is 404)."""

from __future__ import annotations

import dataclasses
from xml.etree import ElementTree

import pytest

from market.app import demo
from market.app.demo_images import IMAGES_DIR, Tile, draw, image_base, tiles, write_demo_images
from market.core.settings import Settings
from market.taxonomy.demo_catalog import DEMO_SELLERS, demo_seller_products, generate_products
from market.taxonomy.vocabulary import ROOTS, SWATCHES

SVG = "{http://www.w3.org/2000/svg}"


def test_every_colour_of_the_palettes_has_a_swatch() -> None:
    palette = {
        color for root in ROOTS for sub in root.subcategories for color in sub.attributes.get("color", ())
    }
    assert palette <= SWATCHES.keys()
    assert all(len(value) == 7 and value.startswith("#") for value in SWATCHES.values())


def test_a_tile_is_an_svg_with_its_category_and_colour_in_readable_ink() -> None:
    drawn = ElementTree.fromstring(
        draw(Tile("scratchers-trees-white", "Pet Supplies", "Scratchers & Trees", "white"))
    )

    assert drawn.tag == f"{SVG}svg" and (drawn.get("width"), drawn.get("height")) == ("400", "300")
    assert drawn.get("aria-label") == "Scratchers & Trees, white"
    texts = [text.text for text in drawn.iter(f"{SVG}text")]
    assert texts == ["PET SUPPLIES", "Scratchers & Trees", "white"]
    assert drawn.find(f"{SVG}g").get("fill") == "#1a1f36"  # dark words on white
    on_navy = ElementTree.fromstring(draw(Tile("tents-navy", "Outdoor", "Tents", "navy")))
    assert on_navy.find(f"{SVG}g").get("fill") == "#ffffff"


def test_every_demo_product_names_a_tile_that_is_drawn(tmp_path) -> None:
    count = write_demo_images(tmp_path)

    drawn = {path.name for path in tmp_path.iterdir()}
    assert count == len(drawn) == len({tile.name for tile in tiles()})
    base = image_base("http://127.0.0.1:8000/")
    for seller in DEMO_SELLERS:
        for product in demo_seller_products(seller, image_base=base):
            (url,) = product["images"]
            assert url.startswith("http://127.0.0.1:8000/media/demo/")
            assert url.rsplit("/", 1)[1] in drawn
    assert write_demo_images(tmp_path) == count  # drawn again: the same files


def test_without_a_base_the_catalog_keeps_its_placeholder_address() -> None:
    (product,) = generate_products(1, seed=5)
    assert product["images"][0].startswith("https://img.agora.example/demo/")
    with pytest.raises(ValueError, match="http"):
        generate_products(1, image_base="/media/demo")


async def test_seeding_the_demo_draws_the_images_its_products_point_at(pool, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(
        demo, "DEMO_SELLERS", tuple(dataclasses.replace(seller, product_count=3) for seller in DEMO_SELLERS)
    )

    await demo.seed_demo(pool, tmp_path, image_base="http://shop.test:8000/media/demo")

    images = await pool.fetch("SELECT images FROM products")
    assert len(images) == 3 * len(DEMO_SELLERS)
    for row in images:
        (url,) = row["images"]
        assert url.startswith("http://shop.test:8000/media/demo/")
        assert (tmp_path / IMAGES_DIR / url.rsplit("/", 1)[1]).is_file()


async def test_the_app_serves_the_images_by_name_and_nothing_else(client, settings: Settings) -> None:
    write_demo_images(settings.data_dir / IMAGES_DIR)
    (settings.data_dir / "secret.svg").write_text("<svg/>")

    served = await client.get("/media/demo/tents-forest-green.svg")

    assert served.status_code == 200, served.text
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "script-src" not in served.headers["content-security-policy"]  # default-src 'none': no scripts
    assert served.headers["x-content-type-options"] == "nosniff"
    assert ElementTree.fromstring(served.content).get("aria-label") == "Tents, forest green"
    for name in (
        "no-such-tile.svg",
        "Tents-Forest-Green.svg",
        "tents-forest-green.png",
        "..%2Fsecret.svg",
        "%2E%2E%2Fsecret.svg",
        "..%2F..%2Foperator-token",
    ):
        refused = await client.get(f"/media/demo/{name}")
        assert refused.status_code == 404, (name, refused.text)
    assert (await client.get("/media/demo/../secret.svg")).status_code == 404
