"""`agora demo` states each demo seller's shipping and returns policy through the seller services, on a fresh
database and for demo sellers an earlier run registered, and a second run changes nothing."""

from __future__ import annotations

import dataclasses
import json
import stat

import pytest

from market.app import demo
from market.taxonomy.demo_catalog import DEMO_SELLERS
from sellers import accounts
from sellers.schemas import SellerPatch, SellerPolicy, SellerRegistration


@pytest.fixture(autouse=True)
def small_catalogs(monkeypatch):
    """The demo sellers as they are, with a few products each: the policies are what is under test."""
    monkeypatch.setattr(
        demo, "DEMO_SELLERS", tuple(dataclasses.replace(seller, product_count=3) for seller in DEMO_SELLERS)
    )


def as_stated(seller) -> SellerPolicy:
    return SellerPolicy(
        seller_name=seller.name,
        ships_to=list(seller.ships_to),
        shipping_price=seller.shipping_price,
        free_shipping_over=seller.free_shipping_over,
        return_window_days=seller.return_window_days,
    )


async def test_the_demo_states_every_sellers_policy_also_for_sellers_of_an_earlier_run(pool, tmp_path):
    trailhead = DEMO_SELLERS[0]
    earlier = await accounts.register_seller(  # registered before demo sellers had policies
        pool,
        SellerRegistration(
            name=trailhead.name, email=trailhead.email, country=trailhead.country, currency=trailhead.currency
        ),
    )

    seeded = await demo.seed_demo(pool, tmp_path)

    found = await accounts.policies(pool, [account.seller_id for account in seeded])
    assert [found[account.seller_id] for account in seeded] == [as_stated(seller) for seller in DEMO_SELLERS]
    assert seeded[0].seller_id == earlier.seller_id
    assert found[earlier.seller_id].ships_to == ["US", "CA"]


async def test_a_second_run_restores_the_demo_policy_and_is_otherwise_a_no_op(pool, db, tmp_path):
    first = await demo.seed_demo(pool, tmp_path)
    sellers_after_first = await db.fetch("SELECT * FROM sellers ORDER BY id")
    await accounts.update_seller(
        pool, first[0].seller_id, SellerPatch(ships_to=["MX"], return_window_days=None)
    )

    second = await demo.seed_demo(pool, tmp_path)

    assert [account.seller_id for account in second] == [account.seller_id for account in first]
    assert await db.fetch("SELECT * FROM sellers ORDER BY id") == sellers_after_first


async def test_the_demo_keeps_its_keys_in_a_private_file_and_never_prints_them(pool, tmp_path):
    seeded = await demo.seed_demo(pool, tmp_path)
    keys_file = tmp_path / demo.KEYS_FILE

    described = demo.describe_accounts(seeded, tmp_path)

    kept = json.loads(keys_file.read_text())
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert sorted(kept) == sorted(seller.email for seller in DEMO_SELLERS)
    assert str(keys_file) in described
    assert not any(key in described for key in kept.values())
    assert "agora_sk_" not in described
    email_of = {seller.name: seller.email for seller in DEMO_SELLERS}
    for account in seeded:  # each kept key works, as its seller
        principal = await accounts.authenticate(pool, kept[email_of[account.name]])
        assert principal.seller.seller_id == account.seller_id


async def test_a_second_run_keeps_the_same_keys_and_issues_none(pool, db, tmp_path):
    await demo.seed_demo(pool, tmp_path)
    first = (tmp_path / demo.KEYS_FILE).read_text()
    keys_after_first = await db.fetchval("SELECT count(*) FROM seller_api_keys")

    await demo.seed_demo(pool, tmp_path)

    assert (tmp_path / demo.KEYS_FILE).read_text() == first
    assert await db.fetchval("SELECT count(*) FROM seller_api_keys") == keys_after_first
