"""`agora demo`: demo sellers with a realistic multi-category catalog, loaded through the seller services.

Running it again changes nothing: sellers are found by email, their keys are kept in the data dir (a file
only its owner may read, written when a key changes), and re-sending an identical catalog is a no-op. The
keys are never printed: a log of the demo's output holds no credential.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import msgspec
from tqdm import tqdm

from market.app.demo_images import IMAGES_DIR, write_demo_images
from market.core.errors import DomainError
from market.orders.accounting import payout_account
from market.taxonomy.demo_catalog import DEFAULT_IMAGE_BASE, DEMO_SELLERS, DemoSeller, demo_seller_products
from market.taxonomy.rates import demo_exchange_rates
from payments import exchange_rates
from payments.gateway import StripeGateway
from sellers import accounts, catalog
from sellers import accounts as seller_accounts
from sellers.importer import RawItem
from sellers.schemas import SellerPatch, SellerRegistration

KEYS_FILE = "demo-sellers.json"
BATCH = 1000


@dataclass(frozen=True)
class DemoAccount:
    name: str
    seller_id: UUID
    api_key: str
    products: int


async def seed_demo(
    pool: asyncpg.Pool, data_dir: Path, *, progress: bool = False, image_base: str = DEFAULT_IMAGE_BASE
) -> list[DemoAccount]:
    """`image_base`: where the products' images are served (`demo_images.image_base`); they are drawn here."""
    write_demo_images(data_dir / IMAGES_DIR)
    # Demo sellers price in several currencies: a budget in one reaches the others through this table.
    await exchange_rates.install_if_unset(pool, demo_exchange_rates())
    keys_path = data_dir / KEYS_FILE
    known = json.loads(keys_path.read_text()) if keys_path.is_file() else {}
    accounts = []
    total = sum(seller.product_count for seller in DEMO_SELLERS)
    with tqdm(total=total, desc="demo catalog", unit="product", disable=not progress) as bar:
        for demo_seller in DEMO_SELLERS:
            principal = await _demo_principal(pool, demo_seller, known)
            # Its shipping and returns policy, stated again on every run (a seller of an earlier run too).
            stated = msgspec.convert(demo_seller, SellerPatch, from_attributes=True)
            await seller_accounts.update_seller(pool, principal.seller.seller_id, stated)
            products = demo_seller_products(demo_seller, image_base=image_base)
            while batch := list(itertools.islice(products, BATCH)):
                items = [RawItem(index=i, line=None, data=product) for i, product in enumerate(batch)]
                result = await catalog.upsert_batch(pool, principal.seller, items)
                if result.rejected:
                    raise RuntimeError(f"demo catalog item rejected: {result.rejected[0]}")
                bar.update(len(batch))
            accounts.append(
                DemoAccount(
                    demo_seller.name,
                    principal.seller.seller_id,
                    known[demo_seller.email],
                    demo_seller.product_count,
                )
            )
    if not keys_path.is_file() or json.loads(keys_path.read_text()) != known:
        _write_private(keys_path, json.dumps(known, indent=2))
    return accounts


async def _demo_principal(
    pool: asyncpg.Pool, demo_seller: DemoSeller, known: dict[str, str]
) -> accounts.Principal:
    """The demo seller's identity: its kept key if still valid, else a new registration or a new key."""
    if demo_seller.email in known:
        try:
            return await accounts.authenticate(pool, known[demo_seller.email])
        except DomainError:
            pass  # revoked or from another database: issue a fresh one below
    existing = await accounts.find_seller_by_email(pool, demo_seller.email)
    if existing is None:
        registration = SellerRegistration(
            name=demo_seller.name,
            email=demo_seller.email,
            country=demo_seller.country,
            currency=demo_seller.currency,
        )
        known[demo_seller.email] = (await accounts.register_seller(pool, registration)).api_key
    else:
        known[demo_seller.email] = (
            await accounts.issue_key(pool, existing.seller_id, max_active=None)
        ).api_key
    return await accounts.authenticate(pool, known[demo_seller.email])


async def open_payout_accounts(
    pool: asyncpg.Pool, gateway: StripeGateway, accounts: list[DemoAccount], *, fresh_stripe: bool
) -> list[str]:
    """A Stripe Connect account for each demo seller, so that their sales can be paid out. With
    `fresh_stripe` (a local Stripe that starts empty: no state file of an earlier run) the accounts of an
    earlier run are replaced."""
    seller_ids = [account.seller_id for account in accounts]
    if fresh_stripe:
        await seller_accounts.forget_payout_accounts(pool, seller_ids)
    return [(await payout_account(pool, gateway, seller_id)).account_id for seller_id in seller_ids]


def describe_accounts(accounts: list[DemoAccount], data_dir: Path) -> str:
    """The demo sellers and where their keys are; not the keys themselves, which would end up in logs."""
    keys_path = data_dir / KEYS_FILE
    lines = [f"Demo sellers (their API keys, by email, are in {keys_path}, readable only by you):"]
    for account in accounts:
        lines.append(f"  {account.name:<28} {account.products:>5} products")
    return "\n".join(lines)


def _write_private(path: Path, text: str) -> None:
    """`text` into `path`, readable by its owner only; written whole to a temporary file (created 0600)
    then moved into place, so the file is never seen half-written nor, for a moment, readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
