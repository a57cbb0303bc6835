"""A request the protocols cannot read is answered in words a client can act on: an empty body, a body that
is not JSON, and an id in the path that cannot be an id are each named, with where they are."""

from __future__ import annotations

import uuid

import pytest

from tests.market.protocols.conftest import OPERATOR, acp_headers

UCP_AGENT = 'profile="https://agent.example/profiles/shopper.json"'


def _headers(kind: str, token: str) -> dict[str, str]:
    if kind == "acp":
        return {**acp_headers(token), "Content-Type": "application/json"}
    return {
        "UCP-Agent": UCP_AGENT,
        "Idempotency-Key": str(uuid.uuid4()),
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }


@pytest.mark.parametrize("kind, path", [("acp", "/checkout_sessions"), ("ucp", "/checkout-sessions")])
async def test_an_empty_body_is_named_as_empty(shop, agent, kind, path):
    answer = await shop.post(path, content=b"", headers=_headers(kind, agent["token"]))

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["message"] == "The request body is empty: send a JSON object."
    assert error["where"] == "body"


@pytest.mark.parametrize("kind, path", [("acp", "/checkout_sessions"), ("ucp", "/checkout-sessions")])
async def test_a_body_that_is_not_json_is_named_at_the_body(shop, agent, kind, path):
    answer = await shop.post(path, content=b'{"currency": "us', headers=_headers(kind, agent["token"]))

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["message"].startswith("The body is not valid JSON: ")
    assert error["where"] == "body"


@pytest.mark.parametrize(
    "kind, method, path, code, where",
    [
        ("acp", "get", "/checkout_sessions/nope", "checkout_session_not_found", "path.checkout_session_id"),
        ("ucp", "get", "/checkout-sessions/nope", "checkout_session_not_found", "path.checkout_id"),
        ("ucp", "get", "/orders/nope", "order_not_found", "path.order_id"),
        ("operator", "post", "/v1/operator/agents/nope/revoke", "agent_not_found", "path.agent_id"),
    ],
)
async def test_an_id_in_the_path_that_cannot_be_one_is_the_same_404_as_an_unknown_id(
    shop, agent, kind, method, path, code, where
):
    headers = OPERATOR if kind == "operator" else _headers(kind, agent["token"])

    answer = await getattr(shop, method)(path, headers=headers)

    assert answer.status_code == 404, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["where"]) == (code, where)
    assert "'nope'" in error["message"]


async def test_a_malformed_id_on_an_acp_route_is_answered_in_acps_flat_shape_too(shop, agent):
    answer = await shop.get("/checkout_sessions/nope", headers=acp_headers(agent["token"]))

    assert (answer.json()["type"], answer.json()["code"]) == ("invalid_request", "checkout_session_not_found")


async def test_a_quantity_sent_as_a_string_is_refused_at_the_quantity(shop, agent):
    answer = await shop.post(
        "/checkout_sessions",
        json={"currency": "usd", "line_items": [{"id": "1", "quantity": "1"}]},
        headers=acp_headers(agent["token"]),
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["where"] == "body.line_items[0].quantity"


async def test_a_ucp_quantity_sent_as_a_string_is_refused_at_the_quantity(shop, agent):
    answer = await shop.post(
        "/checkout-sessions",
        json={"line_items": [{"item": {"id": "1"}, "quantity": "2"}]},
        headers=_headers("ucp", agent["token"]),
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["where"] == "body.line_items[0].quantity"
