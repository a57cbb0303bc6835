"""Fixtures shared by the assistant's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from market.core.settings import Settings
from tests.market.assistant.scripted import CATALOG, app_client, open_shop


@pytest.fixture
async def shop(payment_settings: Settings, database_url: str, db) -> AsyncIterator:
    """The app (search and payments on) with the test catalog from a payable seller."""
    async for client in app_client(payment_settings, database_url):
        client.ids = await open_shop(client, db, CATALOG)
        yield client
