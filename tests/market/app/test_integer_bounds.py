"""Every integer the API reads has bounds: a number past what the database can hold is a 400 naming the
parameter, never a failure of the server."""

from __future__ import annotations

import types
import typing
from typing import Any

import msgspec
import pytest

from market.app.asgi import create_app
from tests.conftest import OPERATOR_TOKEN

PAST_BIGINT = 2**63  # one more than PostgreSQL's largest bigint
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def refused(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()["error"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_product_id_past_the_largest_one_in_a_cart_path_is_a_400(client, method):
    cart_id = (await client.post("/v1/carts")).json()["cart_id"]
    body = {"json": {"quantity": 1}} if method == "PUT" else {}

    answer = await client.request(method, f"/v1/carts/{cart_id}/items/{PAST_BIGINT}", **body)

    assert refused(answer)["where"] == "path.product_id"


async def test_a_change_feed_position_past_the_largest_one_is_a_400(client):
    answer = await client.get("/v1/operator/catalog/changes?after=9941184143516954624", headers=OPERATOR)

    assert refused(answer)["where"] == "query.after"


async def test_a_price_bound_past_the_largest_price_is_a_400_in_either_search(client):
    by_body = await client.post(
        "/v1/search", json={"query": "tent", "filters": {"max_price": PAST_BIGINT, "currency": "USD"}}
    )
    by_query = await client.get(f"/v1/search?q=tent&currency=USD&max_price={PAST_BIGINT}")

    assert refused(by_body)["where"] == "body.filters.max_price"
    assert refused(by_query)["where"] == "query.max_price"


def test_every_integer_the_api_reads_has_a_lower_and_an_upper_bound(settings):
    app = create_app(settings, "postgresql://unused/agora")

    unbounded = [
        f"{sorted(handler.http_methods)} {route.path}: {where}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if hasattr(handler, "parsed_fn_signature")
        for where in _unbounded_integers(handler.parsed_fn_signature.parameters)
    ]

    assert unbounded == []


def _unbounded_integers(parameters: dict[str, Any]) -> list[str]:
    """Where a handler reads an integer without both bounds: a path or query parameter, or a body field
    (read from the body's msgspec schema, which is what decoding enforces)."""
    found = []
    for name, field in parameters.items():
        if name == "data":
            schema = msgspec.json.schema(field.annotation)
            found += [f"body{where}" for where in _unbounded_in_schema(schema, schema.get("$defs", {}))]
        elif _is_integer(field.annotation):
            bounds = field.kwarg_definition
            if getattr(bounds, "ge", None) is None or getattr(bounds, "le", None) is None:
                found.append(name)
    return found


def _is_integer(annotation: Any) -> bool:
    kinds = (
        typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    return int in kinds


def _unbounded_in_schema(
    node: Any, definitions: dict, where: str = "", seen: frozenset = frozenset()
) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in _unbounded_in_schema(item, definitions, where, seen)]
    if not isinstance(node, dict):
        return []
    if ref := node.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        return (
            [] if name in seen else _unbounded_in_schema(definitions[name], definitions, where, seen | {name})
        )
    found = (
        [where or "."] if node.get("type") == "integer" and not {"minimum", "maximum"} <= set(node) else []
    )
    for key, value in node.items():
        if key == "properties":
            for name, child in value.items():
                found += _unbounded_in_schema(child, definitions, f"{where}.{name}", seen)
        elif key != "$defs" and isinstance(value, (dict, list)):
            found += _unbounded_in_schema(value, definitions, where, seen)
    return found
