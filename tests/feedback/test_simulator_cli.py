"""`agora simulate` on the command line: it shops at a running server, prints the day's figures with the
errors it met, and says plainly when there is nothing to shop for or no server to shop at. (A day that
sells is `test_simulator_day.py`; here the server runs without search, which keeps these tests fast.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from market.app.cli import main
from market.core.settings import load_settings
from tests.conftest import product
from tests.market.orders.conftest import LiveShop, free_port


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "AGORA_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def server_without_search(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A live server (search off) whose catalog holds two products."""
    settings = load_settings(
        {"AGORA_DATA_DIR": str(tmp_path / "server"), "AGORA_SEARCH_ENABLED": "false"}, env_file=None
    )
    live = LiveShop(settings, database_url, free_port())
    live.start()
    try:
        seller = httpx.post(
            f"{live.url}/v1/sellers",
            json={"name": "Trailhead", "email": "t@shop.example", "country": "US", "currency": "USD"},
        )
        key = seller.json()["api_key"]
        upload = httpx.post(
            f"{live.url}/v1/catalog/products",
            json=[product("run-1"), product("run-2", title="Road Runner")],
            headers={"Authorization": f"Bearer {key}"},
        )
        assert upload.status_code == 200 and upload.json()["rejected_count"] == 0, upload.text
        yield live.url
    finally:
        live.stop()


def test_the_day_is_printed_with_the_errors_the_server_answered(environment, server_without_search):
    result = CliRunner().invoke(
        main, ["simulate", "--shoppers", "3", "--base-url", server_without_search], env=environment
    )

    assert result.exit_code == 0, result.output
    figures = dict(line.split(None, 1) for line in result.output.splitlines() if not line.startswith(" "))
    assert figures["shoppers"] == "3" and figures["errors"] == "3"
    assert figures["conversion"] == "0.0%"
    assert "error: POST /v1/search -> 503 search_disabled" in result.output


def test_an_unreachable_server_is_said_plainly(environment, server_without_search):
    nobody = f"http://127.0.0.1:{free_port()}"

    unreachable = CliRunner().invoke(
        main, ["simulate", "--shoppers", "2", "--base-url", nobody], env=environment
    )

    assert unreachable.exit_code == 1 and f"cannot reach {nobody}" in unreachable.output


def test_with_nothing_in_the_catalog_there_is_nothing_to_shop_for(environment):
    result = CliRunner().invoke(
        main, ["simulate", "--shoppers", "2", "--base-url", "http://127.0.0.1:9"], env=environment
    )

    assert result.exit_code == 1 and "the catalog is empty" in result.output
