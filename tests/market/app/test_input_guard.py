"""Input from outside is checked at the edge, before any handler reads it: a control character in a path, a
query or a JSON body is a 400 saying what, where and why; JSON nested past the limit is a 400; a body sent as
anything but JSON to a route that reads JSON is a 415; and no route is left out of that check."""

from __future__ import annotations

import pytest

from market.app.asgi import create_app
from tests.conftest import OPERATOR_TOKEN, product, register
from tests.market.assistant.scripted import FixedClassifier, converse, local, use

NUL = "\u0000"
DEEP = b"[" * 10_000 + b"]" * 10_000


def refused(response, code: str = "control_character") -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


async def logged_events(client, db) -> int:
    await client.app.state.impressions.flush()
    return await db.fetchval("SELECT count(*) FROM events")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"query": f"tent{NUL}boots"}, "body.query"),
        ({"query": "tent", "session_id": f"shopper{NUL}"}, "body.session_id"),
        ({"query": "tent", "filters": {"brand": "Ridge\u001bline"}}, "body.filters.brand"),
        (
            {"query": "tent", "filters": {"attributes": {"color": ["red", f"gr{NUL}een"]}}},
            "body.filters.attributes.color[1]",
        ),
    ],
)
async def test_a_control_character_in_a_search_body_is_a_400_and_nothing_is_logged(client, db, body, where):
    error = refused(await client.post("/v1/search", json=body))

    assert error["where"] == where
    assert "U+00" in error["message"]
    assert await logged_events(client, db) == 0


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"q": f"tent{NUL}boots"}, "query.q"),
        ({"q": "tent", "session_id": f"shopper{NUL}"}, "query.session_id"),
        ({"q": "tent\nboots"}, "query.q"),  # no free text in a URL: not even a line break
    ],
)
async def test_a_control_character_in_a_search_query_string_is_a_400(client, db, params, where):
    error = refused(await client.get("/v1/search", params=params))

    assert error["where"] == where
    assert await logged_events(client, db) == 0


async def test_a_nul_in_a_cart_session_is_a_400(client, db):
    error = refused(await client.post("/v1/carts", json={"session_id": f"shopper{NUL}"}))

    assert error["where"] == "body.session_id"
    assert await db.fetchval("SELECT count(*) FROM carts") == 0


async def test_a_nul_in_a_message_to_the_assistant_is_a_400_and_no_turn_is_stored(client, db):
    use(client, local(), FixedClassifier(["search"]))
    conversation = await converse(client)

    answer = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": f"tent{NUL}boots"})

    assert refused(answer)["where"] == "body.text"
    assert await db.fetchval("SELECT count(*) FROM conversation_turns") == 0
    assert refused(await client.post("/v1/conversations", json={"session_id": f"s{NUL}"}))["where"] == (
        "body.session_id"
    )


async def test_a_line_break_in_a_message_is_free_text_and_is_answered(client):
    use(client, local(), FixedClassifier(["search"]))
    conversation = await converse(client)

    answer = await client.post(
        f"/v1/conversations/{conversation}/messages", json={"text": "a tent\r\n\tplease"}
    )

    assert answer.status_code == 200, answer.text


async def test_a_control_character_in_an_operator_query_is_a_400(client):
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    answer = await client.delete(
        "/v1/operator/take-rates", params={"scope": "category", "key": f"Sh{NUL}oes"}, headers=headers
    )

    assert refused(answer)["where"] == "query.key"


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        b'{"query": "tent", "filters": {"attributes": {"color": ' + b"[" * 64 + b"]" * 64 + b"}}}",
    ],
)
async def test_json_nested_past_the_limit_is_a_400_on_search(client, body):
    answer = await client.post("/v1/search", content=body, headers={"Content-Type": "application/json"})

    assert refused(answer, "too_deeply_nested")["where"] == "body"


async def test_brackets_inside_strings_do_not_count_as_nesting(client):
    answer = await client.post("/v1/search", json={"query": "[" * 400})

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json"])
async def test_a_patch_sent_as_anything_but_json_is_a_415_and_changes_nothing(client, content_type):
    _, headers = await register(client)
    assert (await client.post("/v1/catalog/products", json=[product("tent")], headers=headers)).is_success

    answer = await client.patch(
        "/v1/catalog/products/tent",
        content=b'{"inventory_quantity": 0}',
        headers=headers | {"Content-Type": content_type},
    )

    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["code"] == "unsupported_media_type" and error["where"] == "header.Content-Type"
    assert content_type in error["message"]
    unchanged = await client.get("/v1/catalog/products/tent", headers=headers)
    assert unchanged.json()["inventory_quantity"] == 10


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_a_patch_sent_as_json_is_read(client, content_type):
    _, headers = await register(client)
    assert (await client.post("/v1/catalog/products", json=[product("tent")], headers=headers)).is_success

    answer = await client.patch(
        "/v1/catalog/products/tent",
        content=b'{"inventory_quantity": 3}',
        headers=headers | {"Content-Type": content_type},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["inventory_quantity"] == 3


async def test_a_search_sent_as_a_form_is_a_415(client, db):
    answer = await client.post("/v1/search", data={"query": "tent"})

    assert answer.status_code == 415, answer.text
    assert await logged_events(client, db) == 0


@pytest.mark.parametrize("cursor", ["é", "%C3%A9", "not a cursor"])
async def test_a_search_cursor_this_api_did_not_give_out_is_a_400(client, cursor):
    by_body = await client.post("/v1/search", json={"query": "tent", "cursor": cursor})
    by_query = await client.get(f"/v1/search?q=tent&cursor={cursor}")

    assert refused(by_body, "invalid_cursor")["where"] == "body.cursor"
    assert refused(by_query, "invalid_cursor")["where"] == "query.cursor"


def test_every_route_checks_its_input(settings):
    from market.app.input_guard import check_input

    app = create_app(settings, "postgresql://unused/agora")

    hooks = {
        f"{sorted(handler.http_methods)} {route.path}": handler.resolve_before_request()
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if hasattr(handler, "resolve_before_request")
    }

    assert hooks and {route: hook for route, hook in hooks.items() if hook is not check_input} == {}
