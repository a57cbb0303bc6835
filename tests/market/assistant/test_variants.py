""" "Other colours?" and "other sizes?" are answered from the product's variants: its seller's listings
sharing its `group_id`, however differently they are titled; another seller's are another product."""

from __future__ import annotations

from tests.market.assistant.scripted import FixedClassifier, converse, item, local, open_shop, say, use


def henley(sku: str, title: str, color: str, size: str, brand: str = "Northloom") -> dict:
    return item(
        sku,
        title,
        brand,
        "Clothing > Shirts",
        4500,
        color,
        attributes={"color": color, "size": size},
        description="A cotton henley shirt.",
        item_group_id="henley",
    )


async def test_other_colours_and_sizes_come_from_the_products_variants(shop, db) -> None:
    await open_shop(
        shop,
        db,
        [
            henley("hn-navy-m", "Northloom Henley Shirt", "navy", "M"),
            henley("hn-olive-l", "Long Sleeve Top, Olive Green", "olive", "L"),
            henley("hn-rust-s", "Waffle Knit Tee (Rust)", "rust", "S"),
        ],
        name="Northloom",
    )
    # The same group id at another seller is another product.
    await open_shop(
        shop, db, [henley("hn-grey-xl", "Copycat Henley", "grey", "XL", "Copycat")], name="Copycat"
    )
    use(shop, local(), FixedClassifier(["search", "ask_product", "ask_product"]))
    conversation = await converse(shop)

    shown = (await say(shop, conversation, "northloom henley shirt"))["products"]
    colours = await say(shop, conversation, "does the first one come in other colours?")
    sizes = await say(shop, conversation, "what other sizes does the first one come in?")

    assert shown[0]["seller_name"] == "Northloom"
    assert [card["seller_name"] for card in shown].count("Northloom") == 1  # one card for the three
    assert colours["reply"].startswith("Yes: the seller also lists")
    own = next(colour for colour in ("navy", "olive", "rust") if f"this one is {colour}" in colours["reply"])
    assert all(colour in colours["reply"] for colour in {"navy", "olive", "rust"} - {own})
    assert "grey" not in colours["reply"]
    assert sizes["reply"].startswith("Yes: the seller also lists") and "XL" not in sizes["reply"]
