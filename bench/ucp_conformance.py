"""The UCP conformance suite (Universal-Commerce-Protocol/conformance, pytest/absltest files run against a
server URL) against Agora seeded with the suite's flower-shop data; prints which tests pass.

    git clone https://github.com/Universal-Commerce-Protocol/conformance /tmp/ucp-conformance
    python3 -m venv /tmp/ucp-conformance-venv
    /tmp/ucp-conformance-venv/bin/pip install ucp-sdk==0.1.0 absl-py httpx pydantic fastapi 'uvicorn[standard]'
    .venv/bin/python bench/ucp_conformance.py --suite /tmp/ucp-conformance --python /tmp/ucp-conformance-venv/bin/python

(ucp-sdk 0.1.0 is the SDK of UCP 2026-01-11, the version the suite was written for.) Agora runs in this
process on a throwaway embedded PostgreSQL with a local Stripe, as `agora demo` does:

- one seller, "Flower Shop", lists `products.csv` with the stock of `inventory.csv` and charges the
  standard rate of `shipping_rates.csv` for shipping in the US;
- an agent is issued a token, which the server takes for requests without one
  (`AGORA_UCP_GUEST_AGENT_TOKEN`: the suite sends no credential);
- Agora's payment handler goes by the suite's id (`AGORA_UCP_PAYMENT_HANDLER_ID=mock_payment_handler`) and the
  local Stripe grants the suite's two card tokens as shared payment tokens: `success_token` on a card that
  pays, `fail_token` on one that is declined.

The suite talks to the profile of 2026-01-11, so its server URL is `/ucp/2026-01-11` (where that profile and
its routes are served). Discounts, saved customer addresses and order changes by the platform (`PUT
/orders/{id}`) are not part of Agora's UCP surface; their tests are expected to fail.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from market.app.asgi import create_app
from market.app.cli.common import database_url, with_pool
from market.app.local_stripe import start_local_stripe
from market.core.settings import load_settings
from market.orders import agents

HANDLER_ID = "mock_payment_handler"
CARDS = {"success_token": "pm_card_visa", "fail_token": "pm_card_chargeDeclined"}
RESULT = re.compile(r"^\[\s*(OK|FAILED|SKIPPED)\s*\]\s+(\S+)$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flower_catalog(data: Path) -> list[dict]:
    stock = {
        row["product_id"]: int(row["quantity"]) for row in csv.DictReader((data / "inventory.csv").open())
    }
    products = []
    for row in csv.DictReader((data / "products.csv").open()):
        quantity = stock.get(row["id"], 0)
        products.append(
            {
                "id": row["id"],
                "title": row["title"],
                "description": f"{row['title']} from the flower shop.",
                "brand": "Flower Shop",
                "category": "Home & Garden > Flowers",
                "price": {"amount": int(row["price"]), "currency": "USD"},
                "inventory_quantity": quantity,
                "availability": "in_stock" if quantity > 0 else "out_of_stock",
                "images": [row["image_url"]],
            }
        )
    return products


def standard_shipping(data: Path) -> int:
    rates = list(csv.DictReader((data / "shipping_rates.csv").open()))
    return next(int(rate["price"]) for rate in rates if rate["service_level"] == "standard")


class Server:
    """Agora served by uvicorn in a background thread."""

    def __init__(self, app, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:  # noqa: PYI034
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                sys.exit("Agora did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *_) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def seed(base: str, operator_token: str, data: Path) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        seller = client.post(
            "/v1/sellers",
            json={
                "name": "Flower Shop",
                "email": "orders@flowers.example",
                "country": "US",
                "currency": "USD",
            },
        )
        seller.raise_for_status()
        key = {"Authorization": f"Bearer {seller.json()['api_key']}"}
        client.patch(
            "/v1/sellers/me",
            json={
                "ships_to": ["US"],
                "shipping_price": {"amount": standard_shipping(data), "currency": "USD"},
            },
            headers=key,
        ).raise_for_status()
        loaded = client.post("/v1/catalog/products", json=flower_catalog(data), headers=key)
        loaded.raise_for_status()
        assert not loaded.json()["rejected"], loaded.text
        client.post("/v1/seller/payouts/account", headers=key).raise_for_status()


def grant_tokens(stripe_url: str, secret_key: str) -> None:
    with httpx.Client(base_url=stripe_url, auth=(secret_key, ""), timeout=30) as stripe:
        for token, card in CARDS.items():
            stripe.post(
                "/v1/test_helpers/shared_payment/granted_tokens",
                data={
                    "id": token,
                    "payment_method": card,
                    "usage_limits[currency]": "usd",
                    "usage_limits[max_amount]": str(10**9),
                    "usage_limits[expires_at]": str(int(time.time()) + 24 * 3600),
                },
            ).raise_for_status()


def run_suite(
    suite: Path, python: str, server_url: str, logs: Path | None, only: str | None
) -> dict[str, str]:
    results: dict[str, str] = {}
    for test_file in sorted(suite.glob(f"{only or '*'}_test.py")):
        done = subprocess.run(
            [
                python,
                test_file.name,
                f"--server_url={server_url}",
                "--conformance_input=test_data/flower_shop/conformance_input.json",
                "--test_data_dir=test_data/flower_shop",
            ],
            cwd=suite,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"{test_file.stem}.log").write_text(done.stdout + done.stderr)
        found = False
        for line in (done.stdout + done.stderr).splitlines():
            if match := RESULT.match(line.strip()):
                results[f"{test_file.stem}::{match[2].split('.')[-1]}"] = match[1]
                found = True
        if not found:
            results[f"{test_file.stem}::(file)"] = f"ERROR: {(done.stderr or done.stdout).strip()[-300:]}"
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, required=True, help="a checkout of the conformance repository")
    parser.add_argument("--python", default=sys.executable, help="the Python with the suite's dependencies")
    parser.add_argument("--logs", type=Path, default=None, help="keep each test file's output here")
    parser.add_argument("--only", default=None, help="run only <name>_test.py (e.g. checkout_lifecycle)")
    args = parser.parse_args()
    data = args.suite / "test_data" / "flower_shop"
    # The embedded PostgreSQL stops when this process exits; its data directory is left in /tmp.
    tmp = tempfile.mkdtemp(prefix="agora-ucp-")
    if True:
        port = free_port()
        settings = load_settings(
            {
                "AGORA_DATA_DIR": tmp,
                "AGORA_OPERATOR_TOKEN": "agora_op_conformance",
                "AGORA_PORT": str(port),
                "AGORA_SEARCH_ENABLED": "false",
                "AGORA_UCP_PAYMENT_HANDLER_ID": HANDLER_ID,
            },
            env_file=None,
        )
        stripe = start_local_stripe()
        try:
            settings = stripe.settings_for(settings)
            url = database_url(settings)
            issued = asyncio.run(
                with_pool(
                    settings,
                    url,
                    lambda pool: agents.create_agent(pool, agents.AgentIn(name="UCP conformance")),
                    migrate=True,
                )
            )
            settings = msgspec.structs.replace(settings, ucp_guest_agent_token=issued.token)
            grant_tokens(stripe.url, settings.stripe_secret_key)
            base = f"http://127.0.0.1:{port}"
            stripe.deliver_webhooks_to(f"{base}/v1/stripe/webhook")
            with Server(create_app(settings, url), port):
                seed(base, settings.operator_token, data)
                results = run_suite(args.suite, args.python, f"{base}/ucp/2026-01-11", args.logs, args.only)
        finally:
            stripe.process.terminate()
            stripe.process.wait(timeout=30)
    print("| test | result |\n|---|---|")
    for name, outcome in results.items():
        print(f"| {name} | {outcome} |")
    passed = sum(outcome == "OK" for outcome in results.values())
    print(f"\n{passed} passed, {len(results) - passed} failed")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
