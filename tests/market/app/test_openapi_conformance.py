"""The API does what its OpenAPI document says. The document describes every error as Agora answers it,
`{"error": {status, code, message, where}}`; and schemathesis, sending requests generated from the document
to every operation of the app (in process, with a seller's key and the operator token, a fixed number of
requests from a fixed seed), gets no server error, and no status, content type, header or body that the
document does not describe."""

from __future__ import annotations

import re

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from market.app.asgi import create_app
from market.assistant.llm.messages import ModelReply
from tests.conftest import OPERATOR_TOKEN, product

SEED = 20240611
EXAMPLES = 10  # per operation, once with valid and once with invalid input
BASE = "http://testserver"
ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


async def test_every_operations_errors_are_documented_in_the_shape_they_are_answered_in(client):
    document = (await client.get("/docs/openapi.json")).json()
    body = document["components"]["schemas"]["ErrorBody"]

    assert set(body["required"]) == {"status", "code", "message"}
    assert {"status", "code", "message", "where", "details"} <= set(body["properties"])
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]
    assert len(operations) > 50
    for name, operation in operations:
        errors = {status: answer for status, answer in operation["responses"].items() if status[0] in "45d"}
        assert {"400", "default"} <= set(errors), name
        for status, answer in errors.items():
            assert answer["content"] == {"application/json": {"schema": ERROR}}, (name, status)
    assert "status_code" not in str(document)  # nothing left of Litestar's own error shape


async def test_an_operation_with_a_key_a_path_and_a_body_documents_what_each_can_cost(client):
    document = (await client.get("/docs/openapi.json")).json()

    patch = document["paths"]["/v1/catalog/products/{id}"]["patch"]["responses"]
    health = document["paths"]["/healthz"]["get"]["responses"]

    assert {"400", "401", "403", "404", "413", "415", "default"} <= set(patch)
    assert "WWW-Authenticate" in patch["401"]["headers"]
    assert set(health) == {"200", "400", "default"}


async def test_the_document_says_what_a_request_may_carry_as_the_app_reads_it(client):
    document = (await client.get("/docs/openapi.json")).json()
    schemas = document["components"]["schemas"]
    search = {
        parameter["name"]: parameter["schema"]
        for parameter in document["paths"]["/v1/search"]["get"]["parameters"]
    }
    query_text = re.compile(search["q"]["pattern"])
    body_text = re.compile(schemas["MessageIn"]["properties"]["text"]["pattern"])

    # No control character in a query; tab and line breaks, but no other, in a body's free text.
    assert query_text.match("trail shoes") and not query_text.match("trail\tshoes")
    assert (
        body_text.match("a tent\r\n\tplease")
        and not body_text.match("tent\x00")
        and not body_text.match("\x85")
    )
    # Bodies whose fields are fixed say so; a bound of 0 is written (a price, a stock count).
    assert schemas["SearchRequest"]["additionalProperties"] is False
    assert search["min_price"]["minimum"] == 0
    assert schemas["ProductPatch"]["properties"]["inventory_quantity"]["minimum"] == 0


class CannedModel:
    """The assistant's model, answering every prompt alike: the reading layer and the tools stay real."""

    name = "local:canned"

    async def complete(self, messages, *, tools=(), json_schema=None, max_tokens=256, temperature=0.0):
        return ModelReply(text="Here is what I found.", tool_calls=(), model=self.name, latency_ms=1.0)


@pytest.fixture
def api(payment_settings, database_url):
    """The app with payments on (the local Stripe), a payable seller with a few products; the document as
    schemathesis reads it, and the credentials of each security scheme."""
    app = create_app(payment_settings, database_url)
    app.state.assistant_backend = CannedModel()
    with asgi.get_client(app) as client:
        seller = client.post(
            f"{BASE}/v1/sellers",
            json={
                "name": "Fuzz Outfitters",
                "email": "fuzz@shop.example",
                "country": "US",
                "currency": "USD",
            },
        )
        assert seller.status_code == 201, seller.text
        key = seller.json()["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        products = [product(f"sku-{i}") for i in range(5)]
        assert client.post(f"{BASE}/v1/catalog/products", json=products, headers=headers).status_code == 200
        assert client.post(f"{BASE}/v1/seller/payouts/account", headers=headers).status_code == 200
        agent = client.post(
            f"{BASE}/v1/operator/agents",
            json={"name": "Fuzz Agent"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        assert agent.status_code == 201, agent.text
    config = SchemathesisConfig.from_dict({"seed": SEED, "generation": {"database": "none"}})
    schema = schemathesis.openapi.from_asgi("/docs/openapi.json", app, config=config)
    try:
        yield schema, {"SellerKey": key, "OperatorToken": OPERATOR_TOKEN, "AgentToken": agent.json()["token"]}
    finally:
        asgi.shutdown_lifespans()


def test_every_operation_answers_as_its_document_says(api):
    schema, tokens = api
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            explore(result.ok(), mode, tokens, failures)
    assert not failures, "\n\n".join(f"{label}: {failure}" for label, failure in failures.items())


def explore(operation, mode: GenerationMode, tokens: dict[str, str], failures: dict[str, str]) -> None:
    """EXAMPLES requests to `operation`, generated from the seed; the first failure of each is kept in
    `failures`, not shrunk, so the report shows the request as it was sent."""
    label = f"{operation.label} ({mode.value})"
    # Each operation asks for one scheme at most: a seller's key, the operator token or an agent's token.
    scheme = next(
        (name for requirement in operation.definition.raw.get("security", []) for name in requirement), None
    )

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {tokens[scheme]}"} if scheme else None)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failure:
            failures.setdefault(label, f"{failure}\n{case.as_curl_command()}")
        if operation.path == "/v1/sellers/me/keys/rotate" and response.status_code == 201:
            tokens["SellerKey"] = response.json()["api_key"]  # the key used stopped working

    try:
        check()
    except hypothesis.errors.Unsatisfiable:  # nothing to get wrong: no parameter and no body
        assert mode is GenerationMode.NEGATIVE, label
