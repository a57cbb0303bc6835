"""An outside agent connects with the official MCP client over streamable HTTP (`/mcp`) and shops: the
tools are UCP's, annotated read-only or not, and answer what the REST routes answer."""

from __future__ import annotations

import json
import os
import sys
from contextlib import asynccontextmanager

import httpx2
import pytest
from litestar.testing import AsyncTestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from market.app.asgi import create_app
from tests.conftest import product, register, wait_until_ready
from tests.market.orders.conftest import payable_seller
from tests.market.protocols.conftest import granted_token, new_agent
from tests.market.protocols.test_ucp_catalog import AGENT, searchable

META = {"ucp-agent": {"profile": "https://agent.example/profiles/shopper.json"}}


class ThroughTestClient(httpx2.AsyncBaseTransport):
    """HTTP from the MCP client (httpx2) to the app as the test client runs it, on the app's own event loop
    (the app's database pool belongs to that loop)."""

    def __init__(self, client) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        answer = await self.client.request(
            request.method,
            request.url.raw_path.decode(),
            headers=[(k.decode(), v.decode()) for k, v in request.headers.raw],
            content=await request.aread(),
        )
        return httpx2.Response(
            answer.status_code, headers=answer.headers.multi_items(), content=answer.content
        )


@asynccontextmanager
async def mcp_session(client, headers: dict[str, str] | None = None):
    """The MCP SDK's client, speaking streamable HTTP to the running app."""
    http = httpx2.AsyncClient(
        transport=ThroughTestClient(client), base_url="http://agora.test", headers=headers or {}
    )
    async with http, Client(streamable_http_client("http://agora.test/mcp", http_client=http)) as session:
        yield session


def refusal(result) -> dict:
    """The error a tool answered with: the SDK says which tool failed, then Agora's error as JSON."""
    _, error = result.content[0].text.split(": ", 1)
    return json.loads(error)


@pytest.fixture
async def tent(client, db) -> int:
    _, seller = await register(client)
    answer = await client.post(
        "/v1/catalog/products",
        json=[product("tent-1", title="Alpine Dome Tent", category="Outdoor > Tents")],
        headers=seller,
    )
    await searchable(client, db)
    return answer.json()["accepted"][0]["product_id"]


async def test_the_tools_are_ucps_with_their_annotations(client):
    async with mcp_session(client) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert {"search_catalog", "lookup_catalog", "get_product"} <= set(tools)
    for name in ("search_catalog", "lookup_catalog", "get_product"):
        assert tools[name].annotations.read_only_hint is True
        assert {"meta", "catalog"} <= set(tools[name].input_schema["properties"])


async def test_search_and_product_answer_as_rest_does(client, tent):
    async with mcp_session(client) as session:
        found = await session.call_tool("search_catalog", {"meta": META, "catalog": {"query": "dome tent"}})
        shown = await session.call_tool("get_product", {"meta": META, "catalog": {"id": str(tent)}})
    assert not found.is_error
    assert found.structured_content["products"][0]["id"] == str(tent)
    rest = await client.post("/catalog/product", json={"id": str(tent)}, headers=AGENT)
    assert shown.structured_content["product"] == rest.json()["product"]
    assert json.loads(shown.content[0].text)["product"]["title"] == "Alpine Dome Tent"


async def test_a_call_without_the_agent_or_with_a_bad_payload_is_a_tool_error(client, tent):
    async with mcp_session(client) as session:
        anonymous = await session.call_tool("search_catalog", {"meta": {}, "catalog": {"query": "tent"}})
        bad = await session.call_tool("lookup_catalog", {"meta": META, "catalog": {"ids": []}})
    assert anonymous.is_error
    assert refusal(anonymous)["code"] == "invalid_profile_url"
    assert bad.is_error
    assert refusal(bad)["where"] == "catalog"


@pytest.fixture
async def market(payment_settings, database_url):
    """The app with search and payments on (the local Stripe)."""
    async with AsyncTestClient(create_app(payment_settings, database_url)) as client:
        await wait_until_ready(client)
        yield client


def ucp_address() -> dict:
    return {
        "street_address": "1 Main St",
        "address_locality": "Springfield",
        "address_region": "IL",
        "postal_code": "62701",
        "address_country": "US",
        "full_name": "Jane Doe",
    }


async def test_an_agent_searches_and_buys_through_mcp(market, db, stripe):
    seller = await payable_seller(
        market, "Trailhead", [product("tent-1", title="Alpine Dome Tent", category="Outdoor > Tents")]
    )
    await searchable(market, db)
    agent = await new_agent(market)
    headers = {"Authorization": f"Bearer {agent['token']}"}
    async with mcp_session(market, headers) as session:
        found = await session.call_tool("search_catalog", {"meta": META, "catalog": {"query": "dome tent"}})
        item = found.structured_content["products"][0]["id"]
        assert item == str(seller.products["tent-1"])

        created = await session.call_tool(
            "create_checkout",
            {
                "meta": META | {"idempotency-key": "create-1"},
                "checkout": {"line_items": [{"item": {"id": item}}]},
            },
        )
        assert not created.is_error, created.content
        checkout = created.structured_content
        assert checkout["status"] == "incomplete"

        addressed = await session.call_tool(
            "update_checkout",
            {
                "meta": META,
                "id": checkout["id"],
                "checkout": {
                    "fulfillment": {"methods": [{"type": "shipping", "destinations": [ucp_address()]}]}
                },
            },
        )
        method = addressed.structured_content["fulfillment"]["methods"][0]
        chosen = await session.call_tool(
            "update_checkout",
            {
                "meta": META,
                "id": checkout["id"],
                "checkout": {
                    "fulfillment": {
                        "methods": [
                            {
                                "type": "shipping",
                                "destinations": method["destinations"],
                                "selected_destination_id": method["selected_destination_id"],
                                "groups": [{"selected_option_id": method["groups"][0]["options"][0]["id"]}],
                            }
                        ]
                    }
                },
            },
        )
        assert chosen.structured_content["status"] == "ready_for_complete"

        payment = {
            "payment": {
                "instruments": [
                    {
                        "handler_id": "stripe",
                        "type": "card",
                        "credential": {"type": "spt", "token": await granted_token(stripe)},
                    }
                ]
            }
        }
        completed = await session.call_tool(
            "complete_checkout",
            {"meta": META | {"idempotency-key": "pay-1"}, "id": checkout["id"], "checkout": payment},
        )
        assert not completed.is_error, completed.content
        assert completed.structured_content["status"] == "completed"
        order_id = completed.structured_content["order"]["id"]

        replayed = await session.call_tool(
            "complete_checkout",
            {"meta": META | {"idempotency-key": "pay-1"}, "id": checkout["id"], "checkout": payment},
        )
        assert replayed.structured_content == completed.structured_content  # paid once, answered twice
        reused = await session.call_tool(
            "create_checkout",
            {
                "meta": META | {"idempotency-key": "create-1"},
                "checkout": {"line_items": [{"item": {"id": item}, "quantity": 2}]},
            },
        )
        assert reused.is_error and refusal(reused)["code"] == "idempotency_conflict"

        order = await session.call_tool("get_order", {"meta": META, "id": order_id})
        assert order.structured_content["checkout_id"] == checkout["id"]
        assert order.structured_content["line_items"][0]["item"]["id"] == item

    rest = await market.get(f"/orders/{order_id}", headers={"UCP-Agent": AGENT["UCP-Agent"], **headers})
    assert rest.json()["id"] == order_id  # the same order over REST


async def test_checkout_tools_need_an_agent_token_and_are_marked_as_changing_things(market):
    async with mcp_session(market) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        anonymous = await session.call_tool(
            "create_checkout", {"meta": META, "checkout": {"line_items": [{"item": {"id": "1"}}]}}
        )
    assert anonymous.is_error and refusal(anonymous)["code"] == "missing_agent_token"
    assert tools["complete_checkout"].annotations.destructive_hint is True
    assert tools["get_checkout"].annotations.read_only_hint is True
    assert tools["get_order"].annotations.read_only_hint is True
    assert tools["create_checkout"].annotations.read_only_hint is False


async def test_agora_mcp_serves_the_same_tools_over_stdio(client, tent, settings, database_url, tmp_path):
    """`agora mcp`, started as an MCP client starts its servers: a process speaking on stdin/stdout."""
    server = StdioServerParameters(
        command=sys.executable,
        args=["-c", "from market.app.cli import main; main()", "mcp"],
        env={
            **os.environ,
            "AGORA_DATABASE_URL": database_url,
            "AGORA_DATA_DIR": str(tmp_path / "mcp-data"),
            "AGORA_OPERATOR_TOKEN": "agora_op_stdio",
            "AGORA_SEARCH_ENABLED": "false",
        },
    )
    async with Client(server) as session:
        names = {tool.name for tool in (await session.list_tools()).tools}
        shown = await session.call_tool("get_product", {"meta": META, "catalog": {"id": str(tent)}})
    assert names == {
        "search_catalog",
        "lookup_catalog",
        "get_product",
        "create_checkout",
        "get_checkout",
        "update_checkout",
        "complete_checkout",
        "cancel_checkout",
        "get_order",
    }
    assert shown.structured_content["product"]["title"] == "Alpine Dome Tent"


async def test_a_control_character_in_a_tool_argument_is_refused_before_the_database(client, tent):
    async with mcp_session(client) as session:
        answer = await session.call_tool("lookup_catalog", {"meta": META, "catalog": {"ids": ["tent\x00-1"]}})
    assert answer.is_error
    assert refusal(answer)["where"] == "catalog.ids[0]"
