"""The Agentic Commerce Protocol's checkout over HTTP (merchant side, version 2026-04-17).

Every route takes an agent's token (`Authorization: Bearer`) and `API-Version`; every POST an
`Idempotency-Key` (`market.protocols.idempotency`). The rules live in `market.orders.sessions`; this module
only reads and writes ACP's payloads (`mapping`).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import Body, FromPath, HeaderParameter, JSONBody

from market.core.auth import AGENT_TOKEN
from market.core.dependencies import FLAT_ERRORS, STRICT_JSON_TYPES, AppSettings, Pool
from market.core.errors import ErrorDetail, InvalidInput
from market.orders import sessions
from market.orders.agents import Agent
from market.protocols.acp import mapping, models
from market.protocols.idempotency import IdempotencyMiddleware
from payments.gateway import StripeGateway

AgentPrincipal = NamedDependency[Agent]
Gateway = NamedDependency[StripeGateway]
SUPPORTED_VERSIONS = (models.VERSION,)
PROTOCOL = "acp"

ApiVersion = Annotated[
    str,
    HeaderParameter(
        name="API-Version", description=f"The ACP version spoken: {models.VERSION}", max_length=20
    ),
]
IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        description="Required on every POST; the same key with the same body answers the first answer again.",
        min_length=1,
        max_length=255,
    ),
]


def api_version_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A request must say which ACP version it speaks, and it must be one Agora speaks (400 listing them)."""
    version = connection.headers.get("api-version")
    supported = [
        ErrorDetail(code="supported_version", message=v, where="supported_versions")
        for v in SUPPORTED_VERSIONS
    ]
    if not version:
        raise InvalidInput(
            "missing_api_version",
            f"Send the API-Version header; supported versions: {', '.join(SUPPORTED_VERSIONS)}.",
            where="header.API-Version",
            details=supported,
        )
    if version not in SUPPORTED_VERSIONS:
        raise InvalidInput(
            "unsupported_api_version",
            f"API-Version {version!r} is not supported; supported versions: {', '.join(SUPPORTED_VERSIONS)}.",
            where="header.API-Version",
            details=supported,
        )


class AcpCheckoutController(Controller):
    path = "/checkout_sessions"
    tags = ("agentic commerce protocol",)
    security = AGENT_TOKEN
    guards = (api_version_guard,)
    middleware = (IdempotencyMiddleware,)
    # ACP's clients read its flat error fields; "1" is no quantity: bodies are read as their JSON types.
    opt = MappingProxyType({FLAT_ERRORS: True, STRICT_JSON_TYPES: True})

    @post("/", status_code=201, summary="ACP: start a checkout session")
    async def create(
        self,
        data: JSONBody[models.CreateRequest],
        agent: AgentPrincipal,
        pool: Pool,
        settings: AppSettings,
        api_version: ApiVersion,
        idempotency_key: IdempotencyKey,
    ) -> models.CheckoutSession:
        with mapping.body_paths():
            view = await sessions.create_session(
                pool, agent.agent_id, PROTOCOL, data.currency, mapping.create_changes(data)
            )
        return mapping.session(view, settings)

    @post("/{checkout_session_id:uuid}", status_code=200, summary="ACP: change a checkout session")
    async def update(
        self,
        checkout_session_id: FromPath[UUID],
        data: JSONBody[models.UpdateRequest],
        agent: AgentPrincipal,
        pool: Pool,
        settings: AppSettings,
        api_version: ApiVersion,
        idempotency_key: IdempotencyKey,
    ) -> models.CheckoutSession:
        with mapping.body_paths():
            view = await sessions.update_session(
                pool, agent.agent_id, checkout_session_id, mapping.update_changes(data)
            )
        return mapping.session(view, settings)

    @get("/{checkout_session_id:uuid}", summary="ACP: a checkout session as it stands")
    async def show(
        self,
        checkout_session_id: FromPath[UUID],
        agent: AgentPrincipal,
        pool: Pool,
        settings: AppSettings,
        api_version: ApiVersion,
    ) -> models.CheckoutSession:
        return mapping.session(
            await sessions.get_session(pool, agent.agent_id, checkout_session_id), settings
        )

    @post(
        "/{checkout_session_id:uuid}/complete",
        status_code=200,
        summary="ACP: pay for a checkout session with a shared payment token",
        description=(
            "`payment_data.instrument.credential` is `{type: spt, token: spt_...}`. Paid: `completed` with "
            "the `order`. Declined: the session with a `payment_declined` message. 3-D Secure: "
            "`authentication_required`; complete again with `authentication_result` once done."
        ),
    )
    async def complete(
        self,
        checkout_session_id: FromPath[UUID],
        data: JSONBody[models.CompleteRequest],
        agent: AgentPrincipal,
        pool: Pool,
        gateway: Gateway,
        settings: AppSettings,
        api_version: ApiVersion,
        idempotency_key: IdempotencyKey,
    ) -> models.CheckoutSession:
        view = await sessions.complete_session(
            pool,
            gateway,
            settings,
            agent.agent_id,
            checkout_session_id,
            shared_payment_token=mapping.shared_payment_token(data),
            token_where="body.payment_data.instrument.credential.token",
            buyer=mapping.buyer(data.buyer),
            authenticated=data.authentication_result is not None,
        )
        return mapping.session(view, settings)

    @post(
        "/{checkout_session_id:uuid}/cancel",
        status_code=200,
        summary="ACP: cancel a checkout session, saying why (intent_trace)",
    )
    async def cancel(
        self,
        checkout_session_id: FromPath[UUID],
        agent: AgentPrincipal,
        pool: Pool,
        settings: AppSettings,
        api_version: ApiVersion,
        idempotency_key: IdempotencyKey,
        data: Annotated[models.CancelRequest | None, Body()] = None,
    ) -> models.CheckoutSession:
        trace = data.intent_trace if data else None
        view = await sessions.cancel_session(
            pool,
            agent.agent_id,
            checkout_session_id,
            reason_code=trace.reason_code if trace else None,
            summary=trace.trace_summary if trace else None,
        )
        return mapping.session(view, settings)
