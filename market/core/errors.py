"""One shape for every error Agora answers with: what went wrong, where, and why.

    {"error": {"status": 404, "code": "product_not_found", "message": "...", "where": "path.id"}}

Route handlers raise `ApiError`; the handlers below also translate Litestar's own exceptions (validation,
body too large, unknown route) into the same shape, so a client parses one format.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    where: str | None = None


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    code: str
    message: str
    where: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class ApiError(Exception):
    """An error a client can act on. `where` names the part of the request at fault (e.g. `body.email`)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        where: str | None = None,
        details: list[ErrorDetail] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.body = ErrorBody(status=status, code=code, message=message, where=where, details=details)
        self.headers = headers

    @classmethod
    def invalid(cls, where: str | None, message: str) -> ApiError:
        """400: the value at `where` breaks a rule that its type alone cannot express."""
        return cls(400, "invalid_value", message, where=where)


def _respond(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorResponse]:
    return Response(ErrorResponse(body), status_code=body.status, headers=headers, media_type=MediaType.JSON)


def handle_api_error(_: Request, exc: ApiError) -> Response[ErrorResponse]:
    return _respond(exc.body, exc.headers)


def handle_validation_error(_: Request, exc: ValidationException) -> Response[ErrorResponse]:
    details = [_detail_from_litestar(item) for item in (exc.extra or []) if isinstance(item, dict)]
    first = details[0] if details else None
    return _respond(
        ErrorBody(
            status=400,
            code="invalid_request",
            message=first.message if first else str(exc.detail),
            where=first.where if first else None,
            details=details or None,
        )
    )


def handle_http_error(request: Request, exc: HTTPException) -> Response[ErrorResponse]:
    message = str(exc.detail)
    code = _CODES.get(exc.status_code, "http_error")
    where = None
    if exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        limit = request.route_handler.resolve_request_max_body_size()
        message = f"The request body is larger than the limit of {limit} bytes."
        where = "body"
    return _respond(ErrorBody(status=exc.status_code, code=code, message=message, where=where), exc.headers)


def handle_unexpected_error(request: Request, exc: Exception) -> Response[ErrorResponse]:
    request.logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(
        ErrorBody(
            status=HTTP_500_INTERNAL_SERVER_ERROR, code="internal_error", message="Something went wrong."
        )
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: handle_api_error,
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


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"(?:missing required field|unknown field) `(?P<name>[^`]+)`")


def split_msgspec_message(message: str) -> tuple[str, str | None]:
    """msgspec says `Expected int, got str - at $.price.amount`: that is what, and `price.amount` where.

    For a missing or unknown field, where is the field itself (`price.currency`), not its parent.
    """
    match = _AT.match(message)
    what = match["what"] if match else message
    path = (match["path"] or "").lstrip(".") if match else ""
    named = _NAMED_FIELD.search(what)
    if named:
        path = f"{path}.{named['name']}" if path else named["name"]
    return what, path or None
