"""While the database does not answer, a database route answers 503 `database_unavailable` with
`Retry-After`, never a 500: whether the pool could not connect (`DatabaseUnavailable`) or the connection was
lost under the request (asyncpg's own errors, mapped in `market.app.errors`). A database whose server ended
every session (a restart of a given `DATABASE_URL`) is reconnected by the pool on its own."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest
from litestar import Litestar, Request
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.app.errors import EXCEPTION_HANDLERS, error_body
from market.core.errors import DatabaseUnavailable, DomainError
from tests.conftest import product, register


def request_to(app: Litestar) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/v1/x", "headers": [], "litestar_app": app})


@pytest.mark.parametrize(
    "lost",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to unexpected postmaster exit"),
        asyncpg.CannotConnectNowError("the database system is in recovery mode"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
    ],
)
def test_a_connection_lost_under_a_request_answers_503_database_unavailable(settings, lost):
    app = create_app(settings, "postgresql://unused/agora")
    handler = next(EXCEPTION_HANDLERS[kind] for kind in type(lost).__mro__ if kind in EXCEPTION_HANDLERS)

    response = handler(request_to(app), lost)

    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert response.content.error.code == "database_unavailable"
    assert error_body(lost).code == "database_unavailable"  # as a stream's last event says it too


async def test_a_connection_lost_inside_a_transaction_answers_503_not_500(settings, database_url):
    app = create_app(settings, "postgresql://unused/agora")
    conn, admin = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        with pytest.raises(Exception) as raised:  # asyncpg says it in one of several ways
            async with conn.transaction():  # as a service writes several rows at once
                await admin.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
                await conn.execute("SELECT 1")
    finally:
        await admin.close()
        await conn.close()
    handler = next(
        EXCEPTION_HANDLERS[kind] for kind in type(raised.value).__mro__ if kind in EXCEPTION_HANDLERS
    )

    response = handler(request_to(app), raised.value)

    assert (response.status_code, response.content.error.code) == (503, "database_unavailable")
    assert error_body(raised.value).code == "database_unavailable"


def test_database_unavailable_says_when_to_try_again(settings):
    app = create_app(settings, "postgresql://unused/agora")

    response = EXCEPTION_HANDLERS[DomainError](request_to(app), DatabaseUnavailable(retry_after=3))

    assert (response.status_code, response.headers["Retry-After"]) == (503, "3")
    assert response.content.error.code == "database_unavailable"


async def test_after_the_server_ended_every_session_the_pool_reconnects_and_nothing_answers_500(
    settings, database_url
):
    quiet = msgspec.structs.replace(settings, search_enabled=False, db_pool_min_size=4)
    async with AsyncTestClient(create_app(quiet, database_url)) as client:
        _, seller = await register(client)
        admin = await asyncpg.connect(database_url)
        try:  # what a restart of the server does to every open connection
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert ended >= 1

        answers = [
            await client.post("/v1/catalog/products", json=[product(f"after-{i}")], headers=seller)
            for i in range(8)
        ]

    refused = [answer for answer in answers if answer.status_code != 200]
    assert all(
        (answer.status_code, answer.json()["error"]["code"]) == (503, "database_unavailable")
        and answer.headers["retry-after"]
        for answer in refused
    ), [answer.text for answer in refused]
    assert answers[-1].status_code == 200  # reconnected
