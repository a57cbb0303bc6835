"""python -m devtools.stripe_local --port 8420 [--host 127.0.0.1] [--webhook-delay 0.2] [--state-file PATH]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_local",
        description="Local Stripe API for development and tests: localstripe plus Checkout and Connect.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8420, help="port to bind; 0 picks a free one (default 8420)"
    )
    parser.add_argument(
        "--webhook-delay",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="wait before each webhook delivery, as Stripe delivers asynchronously (default 0.2)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        help="base of checkout session urls when the server is reached under another address",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep every object in this file across restarts (default: memory only)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.webhook_delay, args.public_url, args.state_file))


if __name__ == "__main__":
    main()
