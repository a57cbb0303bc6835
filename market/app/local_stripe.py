"""The local Stripe that `agora demo` pays through when no Stripe key is configured.

api.stripe.com may be out of reach (and a demo should not need an account), so the demo starts the
project's development tool `devtools/stripe_local` (localstripe extended with Checkout Sessions, a test
payment page and Connect) as a separate process beside the checkout, and points the official SDK at it
through `AGORA_STRIPE_API_BASE`. The product never imports that tool: it is found next to the package in a
source checkout and run with `python -m`, like any other program. A configured key always wins.

The demo gives it a state file in the data dir, so the charges, transfers and Connect accounts of earlier
runs are still there after a restart (reconciliation of old orders holds, payout accounts stay valid).
"""

from __future__ import annotations

import importlib.util
import re
import secrets
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

from market.core.settings import Settings

CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
TOOL = CHECKOUT_ROOT / "devtools" / "stripe_local" / "__main__.py"
START_TIMEOUT = 30.0
DEMO_SECRET_KEY = "sk_test_agora_demo"
STATE_FILE = "stripe-local-state.pickle"  # in the data dir


class LocalStripeUnavailable(RuntimeError):
    """The local Stripe cannot be started here (an installed package without the dev tools, say)."""


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen
    webhook_secret: str
    resumed: bool = False  # it holds the objects of an earlier run (from its state file)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` with payments pointed at this server."""
        return msgspec.structs.replace(
            settings,
            stripe_secret_key=DEMO_SECRET_KEY,
            stripe_api_base=self.url,
            stripe_webhook_secret=self.webhook_secret,
        )

    def deliver_webhooks_to(self, endpoint: str) -> None:
        answer = httpx.post(
            f"{self.url}/_config/webhooks/agora", data={"url": endpoint, "secret": self.webhook_secret}
        )
        answer.raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start_local_stripe(host: str = "127.0.0.1", state_file: Path | None = None) -> LocalStripe:
    """Start the local Stripe on a free port. `state_file`: where it keeps its objects across restarts
    (None: in memory, ending with it)."""
    if not TOOL.is_file():
        raise LocalStripeUnavailable(f"{TOOL.parent} is not here (payments need AGORA_STRIPE_SECRET_KEY)")
    if importlib.util.find_spec("localstripe") is None:
        raise LocalStripeUnavailable("localstripe is not installed: pip install -e '.[demo]'")
    resumed = state_file is not None and state_file.is_file()
    keep = ["--state-file", str(state_file)] if state_file is not None else []
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_local", "--host", host, "--port", "0", "--quiet", *keep],
        cwd=CHECKOUT_ROOT,
        stdout=subprocess.PIPE,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if not select.select([process.stdout], [], [], 0.1)[0]:
            continue
        if match := re.match(r"stripe_local listening on (http://\S+)", process.stdout.readline().decode()):
            return LocalStripe(match.group(1), process, f"whsec_{secrets.token_hex(16)}", resumed)
    process.kill()
    raise LocalStripeUnavailable(f"the local Stripe did not start (exit code {process.poll()})")
