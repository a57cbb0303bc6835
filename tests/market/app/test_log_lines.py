"""One log record is one line: text from outside (a path with `%0A` in it, a search query) is written with its
control characters escaped, so that no request can forge a line of the log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from litestar import Litestar, Request

from market.app.asgi import create_app
from market.app.errors import handle_unexpected_error

FORGED = '127.0.0.1:1 - "GET /v1/operator/sellers HTTP/1.1" 200'


@pytest.fixture
def app(settings) -> Litestar:
    """The app, made (which sets up the escaping) and its logging configured."""
    app = create_app(settings, "postgresql://unused/agora")
    app.get_logger()
    return app


@pytest.fixture
def log_lines(app) -> Iterator[io.StringIO]:
    """What reaches the root logger (the app's own logger is the root one)."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield written
    root.removeHandler(handler)


def test_a_line_break_in_a_logged_value_is_written_escaped_on_the_same_line(log_lines):
    logging.getLogger("agora.test").warning("search for %s from %r", f"tent\n{FORGED}", "s-1\r\x1b[2J")

    assert log_lines.getvalue().splitlines() == [f"WARNING search for tent\\n{FORGED} from 's-1\\r\\x1b[2J'"]


def test_a_message_built_before_logging_is_escaped_too(log_lines):
    logging.getLogger("agora.test").warning(f"no product tent\n{FORGED}")

    assert log_lines.getvalue().splitlines() == [f"WARNING no product tent\\n{FORGED}"]


def test_an_unexpected_error_on_a_path_with_a_line_break_cannot_forge_a_log_line(app, log_lines):
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/v1/catalog/products/x\n{FORGED}",
        "raw_path": b"/v1/catalog/products/x%0A...",
        "query_string": b"",
        "headers": [],
        "litestar_app": app,
    }
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        handle_unexpected_error(Request(scope), exc)

    first, *traceback = log_lines.getvalue().splitlines()
    assert first == f"ERROR unhandled error on GET /v1/catalog/products/x\\n{FORGED}"
    assert not any(line.startswith(FORGED) for line in traceback)
