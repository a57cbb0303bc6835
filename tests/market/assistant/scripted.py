"""What the assistant's tests share: a chat backend that answers from a script, a classifier that answers
what a test says, a small catalog from payable sellers, and an app with search and payments on.

The scripted parts stand in for the model only: the tools, the engine, the carts, checkout (against the
local Stripe), grounding and the stores are all real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.assistant.llm.messages import ChatMessage, ModelReply, ToolCall, ToolSpec
from market.core.settings import Settings
from tests.conftest import product, register, wait_until_ready

USD = "USD"


@dataclass
class Request:
    """One call the agent made to the backend, as received."""

    messages: list[ChatMessage]
    tools: list[ToolSpec]
    json_schema: dict | None


class ScriptedBackend:
    """Answers each `complete` with the next scripted reply (or raises it, for an exception); running out of
    script is a test failure. `name` decides who leads: "local:..." the layer, anything else the model."""

    def __init__(
        self, script: Sequence[ModelReply | str | ToolCall | list[ToolCall] | Exception], *, name: str
    ):
        self.name = name
        self.script = list(script)
        self.requests: list[Request] = []

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        json_schema: dict | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> ModelReply:
        self.requests.append(Request(list(messages), list(tools), json_schema))
        if not self.script:
            raise AssertionError(f"the backend was asked more than scripted: {messages[-1]}")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, ModelReply):
            return step
        if isinstance(step, str):
            return ModelReply(text=step, tool_calls=(), model=self.name, latency_ms=1.0)
        calls = (step,) if isinstance(step, ToolCall) else tuple(step)
        return ModelReply(text="", tool_calls=calls, model=self.name, latency_ms=1.0)


def model(*script: Any) -> ScriptedBackend:
    """A backend that leads (the openai path)."""
    return ScriptedBackend(script, name="openai:scripted")


def local(*script: Any) -> ScriptedBackend:
    """A backend the layer leads (the local path)."""
    return ScriptedBackend(script, name="local:scripted")


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


def json_reply(**fields: Any) -> str:
    return msgspec.json.encode(fields).decode()


@dataclass
class FixedClassifier:
    """The action classifier's stand-in: answers the actions a test lists, one per message, in order."""

    actions: list[str] = field(default_factory=list)

    def predict(self, text: str, *, has_shown: bool) -> tuple[str, float]:
        assert self.actions, f"no action scripted for {text!r}"
        return self.actions.pop(0), 0.99


# -- the catalog -------------------------------------------------------------------------------------


def item(sku: str, title: str, brand: str, category: str, price: int, color: str, **fields: Any) -> dict:
    return product(
        sku,
        title=title,
        brand=brand,
        category=category,
        price={"amount": price, "currency": USD},
        description=fields.pop("description", f"{title} by {brand}."),
        attributes=fields.pop("attributes", {"color": color}),
        **fields,
    )


CATALOG = [
    item(
        "velocity",
        "Velocity 3 Road Running Shoe",
        "Stridewell",
        "Shoes > Running",
        12999,
        "blue",
        list_price={"amount": 14999, "currency": USD},
    ),
    item("tr-1200x", "Trail Runner TR-1200X", "Stridewell", "Shoes > Running > Trail", 14999, "green"),
    item("pace", "Women's Lightweight Running Shoe", "Pacefield", "Shoes > Running", 8999, "pink"),
    item("quiet", "QuietWave Noise Cancelling Headphones", "Sonora", "Electronics > Audio", 24999, "black"),
    item("studio", "Wired Studio Headphones", "Beatline", "Electronics > Audio", 7999, "blue"),
    item("pan", "Cast Iron Frying Pan, 12 inch", "Ironvale", "Kitchen > Cookware", 3999, "black"),
    item("mat", "Non-Slip Yoga Mat, 6 mm", "Lotusflow", "Sports > Yoga", 3999, "purple"),
]


async def open_shop(
    client: AsyncTestClient, db: asyncpg.Connection, items: list[dict], name: str = "Trailhead Outfitters"
) -> dict[str, int]:
    """A seller that can be paid, with `items` in its catalog, all searchable; returns sku -> product id."""
    _, headers = await register(client, name)
    answer = await client.post("/v1/catalog/products", json=items, headers=headers)
    assert answer.status_code == 200 and not answer.json()["rejected"], answer.text
    if client.app.state.gateway is not None:
        account = await client.post("/v1/seller/payouts/account", headers=headers)
        assert account.status_code == 200, account.text
    await searchable(client, db)
    return {accepted["item_id"]: accepted["product_id"] for accepted in answer.json()["accepted"]}


async def searchable(client: AsyncTestClient, db: asyncpg.Connection, timeout: float = 20.0) -> None:
    """Until the engine reflects every catalog change made so far."""
    target = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + timeout
    while client.app.state.engine.seq < target:
        assert time.monotonic() < deadline, "the index did not catch up with the catalog"
        await asyncio.sleep(0.05)


async def app_client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        await wait_until_ready(client)
        yield client


def use(client: AsyncTestClient, backend: ScriptedBackend, classifier: Any = None) -> None:
    """Make the app's assistant talk to `backend` (and, when given, classify with `classifier`)."""
    state = client.app.state
    state.assistant_backend = backend
    if classifier is not None:
        state.assistant_classifier = classifier
    if getattr(state, "assistant", None) is not None:
        del state.assistant  # made again on the next message, with these parts


async def converse(client: AsyncTestClient) -> str:
    answer = await client.post("/v1/conversations")
    assert answer.status_code == 201, answer.text
    return answer.json()["conversation_id"]


async def eventually(db: asyncpg.Connection, query: str, *args: Any, timeout: float = 10.0) -> Any:
    """The first row of `query` once there is one (for what the app writes in the background)."""
    deadline = time.monotonic() + timeout
    while (row := await db.fetchrow(query, *args)) is None:
        assert time.monotonic() < deadline, f"nothing from {query!r} in {timeout} s"
        await asyncio.sleep(0.05)
    return row


async def say(client: AsyncTestClient, conversation_id: str, text: str) -> dict[str, Any]:
    answer = await client.post(f"/v1/conversations/{conversation_id}/messages", json={"text": text})
    assert answer.status_code == 200, answer.text
    return answer.json()
