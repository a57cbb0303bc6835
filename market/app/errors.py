"""One shape for every error Agora answers with over HTTP: what went wrong, where, and why.

    {"error": {"status": 404, "code": "product_not_found", "message": "...", "where": "path.id"}}

Services raise domain errors (`market.core.errors`); this is the one place that decides their HTTP status.
The handlers below also translate Litestar's own exceptions (validation, body too large, unknown route)
into the same shape, so a client parses one format, and a database connection lost under a request
(`market.core.db.lost_connection`) into `DatabaseUnavailable`: a 503 with `Retry-After`, never a 500.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types.internal_types import PathParameterDefinition

from market.core.db import CONNECTION_LOST, lost_connection
from market.core.dependencies import FLAT_ERRORS
from market.core.errors import (
    Conflict,
    DatabaseUnavailable,
    DomainError,
    ErrorDetail,
    Forbidden,
    InFlight,
    InvalidInput,
    NotAllowedNow,
    NotFound,
    PaymentRefused,
    ProviderUnavailable,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
    split_msgspec_message,
)


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    code: str
    message: str
    where: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class FlatErrorResponse(ErrorResponse, omit_defaults=True):
    """The same, with the flat fields the checkout protocols define (ACP: `type` is invalid_request,
    processing_error or service_unavailable; `param` a JSONPath into the body), for routes that ask."""

    type: str
    code: str
    message: str
    param: str | None = None


STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    PaymentRefused: 402,
    Forbidden: 403,
    NotFound: 404,
    NotAllowedNow: 405,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    RateLimited: 429,
    ProviderUnavailable: 502,
    Unavailable: 503,
}


def status_of(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def as_domain_error(exc: Exception) -> DomainError | None:
    """`exc` in the market's terms: a domain error as it is, a lost database connection as
    `DatabaseUnavailable`; None for an unexpected error."""
    if isinstance(exc, DomainError):
        return exc
    if lost_connection(exc):
        return DatabaseUnavailable()
    return None


def error_body(exc: Exception) -> ErrorBody:
    """What a client is told of `exc`: its own words for a domain error, nothing of an unexpected one."""
    if (known := as_domain_error(exc)) is not None:
        return ErrorBody(
            status=status_of(known),
            code=known.code,
            message=known.message,
            where=known.where,
            details=known.details,
        )
    return ErrorBody(
        status=HTTP_500_INTERNAL_SERVER_ERROR, code="internal_error", message="Something went wrong."
    )


def _respond(
    request: Request, body: ErrorBody, headers: dict[str, str] | None = None, *, flat: bool = False
) -> Response[ErrorResponse]:
    """`flat`: answer in the protocols' flat shape though no handler was reached (a path no route took)."""
    answer = ErrorResponse(body)
    handler = request.scope.get("route_handler")
    if flat or (handler is not None and handler.opt.get(FLAT_ERRORS)):
        answer = FlatErrorResponse(
            body,
            type=_flat_type(body.status),
            code=body.code,
            message=body.message,
            param=_json_path(body.where),
        )
    return Response(answer, status_code=body.status, headers=headers, media_type=MediaType.JSON)


def _flat_type(status: int) -> str:
    if status < 500:
        return "invalid_request"
    return "service_unavailable" if status in (502, 503) else "processing_error"


def _json_path(where: str | None) -> str | None:
    """`body.line_items[0].id` -> `$.line_items[0].id`; a header or path parameter is no place in the body."""
    if not where or not where.startswith("body"):
        return None
    return "$" + where[len("body") :] if where != "body" else "$"


def handle_domain_error(request: Request, exc: DomainError) -> Response[ErrorResponse]:
    headers = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, DatabaseUnavailable | RateLimited | InFlight):
        headers = {"Retry-After": str(exc.retry_after)}
    return _respond(request, error_body(exc), headers)


def handle_lost_connection(request: Request, exc: Exception) -> Response[ErrorResponse]:
    request.logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return handle_domain_error(request, DatabaseUnavailable())


def handle_validation_error(request: Request, exc: ValidationException) -> Response[ErrorResponse]:
    details = [_detail_from_litestar(item) for item in (exc.extra or []) if isinstance(item, dict)]
    if any(_body_missing(item) for item in (exc.extra or []) if isinstance(item, dict)):
        empty = "The request body is empty: send a JSON object."
        details = [ErrorDetail(code="body_empty", message=empty, where="body")]
    first = details[0] if details else None
    return _respond(
        request,
        ErrorBody(
            status=400,
            code="invalid_request",
            message=first.message if first else str(exc.detail),
            where=first.where if first else None,
            details=details or None,
        ),
    )


def handle_http_error(request: Request, exc: HTTPException) -> Response[ErrorResponse]:
    message = str(exc.detail)
    code = _CODES.get(exc.status_code, "http_error")
    where = None
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        limit = request.route_handler.resolve_request_max_body_size()
        message = f"The request body is larger than the limit of {limit} bytes."
        where = "body"
    elif isinstance(exc.__cause__, SerializationException):  # the body could not be read as JSON
        code, message, where = "invalid_json", f"The body is not valid JSON: {exc.detail}.", "body"
    elif exc.status_code == HTTP_404_NOT_FOUND and (malformed := _malformed_path_id(request)) is not None:
        return _respond(request, malformed[0], flat=malformed[1])
    return _respond(
        request, ErrorBody(status=exc.status_code, code=code, message=message, where=where), exc.headers
    )


def handle_unexpected_error(request: Request, exc: Exception) -> Response[ErrorResponse]:
    if lost_connection(exc):  # e.g. asyncpg's InterfaceError leaving a transaction whose connection died
        return handle_lost_connection(request, exc)
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, error_body(exc))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: handle_domain_error,
    **dict.fromkeys(CONNECTION_LOST, handle_lost_connection),
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "service_unavailable",
}


# What an id that names nothing is called, per path parameter: a malformed one gets the same 404.
_UNKNOWN_ID_CODES = {
    "checkout_session_id": "checkout_session_not_found",
    "checkout_id": "checkout_session_not_found",
    "order_id": "order_not_found",
    "agent_id": "agent_not_found",
    "cart_id": "cart_not_found",
    "conversation_id": "conversation_not_found",
    "seller_order_id": "seller_order_not_found",
    "refund_id": "refund_not_found",
    "product_id": "product_not_found",
}


_KINDS = {"UUID": "a UUID", "int": "a whole number", "float": "a number", "date": "a date", "datetime": "a time"}


def _malformed_path_id(request: Request) -> tuple[ErrorBody, bool] | None:
    """A path that is a route's but for a parameter of the wrong form (`/orders/nope` where a UUID goes):
    the same 404 as for a well-formed id that names nothing, at that parameter; None for any other path."""
    segments = [segment for segment in request.url.path.split("/") if segment]
    for route in request.app.routes:
        components = route.path_components
        if len(components) != len(segments) or not route.path_parameters:
            continue
        malformed: tuple[str, str, str] | None = None
        for component, segment in zip(components, segments, strict=True):
            if isinstance(component, str):
                if component != segment:
                    break
            elif component.parser is not None and malformed is None and not _parses(component, segment):
                malformed = (component.name, segment, component.type.__name__)
        else:
            if malformed is not None:
                name, segment, kind = malformed
                body = ErrorBody(
                    status=HTTP_404_NOT_FOUND,
                    code=_UNKNOWN_ID_CODES.get(name, "not_found"),
                    message=f"No {name.removesuffix('_id').replace('_', ' ')} {segment[:60]!r}: "
                    f"{name} is {_KINDS.get(kind, 'of another form')}.",
                    where=f"path.{name}",
                )
                handlers = getattr(route, "route_handlers", ())
                return body, any(handler.opt.get(FLAT_ERRORS) for handler in handlers)
    return None


def _parses(parameter: PathParameterDefinition, segment: str) -> bool:
    try:
        parameter.parser(segment)  # type: ignore[misc] (checked not None by the caller)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _body_missing(item: dict[str, Any]) -> bool:
    """Litestar's sign of a request with no body where one is needed: the body itself (`data`) missing."""
    return item.get("key") == "data" and item.get("message") == "'data'"


def _detail_from_litestar(item: dict[str, Any]) -> ErrorDetail:
    source = item.get("source") or "body"
    source = getattr(source, "value", source)  # an enum (ParamType) on some Python versions
    message, path = split_msgspec_message(str(item.get("message", "invalid value")))
    # Litestar names the object at fault as `key` ("data" for the body itself); a missing or unknown
    # field is named in the message, below that object.
    key = item.get("key")
    base = None if key in (None, "data") else str(key)
    field = f"{base}.{path}" if base and path and not path.startswith(base) else path or base
    where = f"{source}.{field}" if field else str(source)
    return ErrorDetail(code="invalid_value", message=message, where=where)
