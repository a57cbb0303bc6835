"""Errors in Stripe's wire format.

localstripe raises bare ``UserError``s (always typed invalid_request_error, rarely with a code); the stripe
SDK picks its exception class from the HTTP status and reads type, code, param and decline_code, so every
error leaving the server is normalised here.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web
from localstripe.errors import UserError, json_response
from localstripe.resources import PaymentMethod, store

log = logging.getLogger("stripe_local")


def stripe_error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    type: str = "invalid_request_error",
    **extra,
) -> UserError:
    error = UserError(status, message, {"code": code, "param": param, **extra})
    error.body["error"]["type"] = type  # UserError always writes invalid_request_error
    return error


def not_found(object_name: str, id: str, *, param: str = "id", status: int = 404) -> UserError:
    return stripe_error(status, f"No such {object_name}: '{id}'", code="resource_missing", param=param)


def missing(param: str) -> UserError:
    return stripe_error(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown(param: str) -> UserError:
    return stripe_error(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def invalid(param: str, message: str, code: str | None = None) -> UserError:
    return stripe_error(400, message, code=code, param=param)


def _card_error_details(error: dict) -> None:
    """What api.stripe.com adds to a decline: the type, a decline_code, and the PaymentIntent."""
    error["type"] = "card_error"
    charge = store.get("charge:" + str(error.get("charge")))
    outcome = getattr(charge, "outcome", None) or {}
    if error.get("code") == "card_declined":
        error.setdefault("decline_code", outcome.get("reason") or "generic_decline")
    if charge is not None and charge.payment_intent:
        intent = store.get("payment_intent:" + charge.payment_intent)
        if intent is not None:
            error["payment_intent"] = intent._export()
    if charge is not None and charge.payment_method:
        method = store.get("payment_method:" + charge.payment_method)
        if isinstance(method, PaymentMethod):
            error["payment_method"] = method._export()


def normalize(error: dict, status: int) -> dict:
    for key in ("type", "code", "message", "param"):
        error.setdefault(key, None)
    if error["type"] is None:
        error["type"] = "invalid_request_error"
    if status == 401 and error["message"] == "Unauthorized":
        error["message"] = "Invalid API key provided: stripe_local accepts any secret key starting with sk_."
    unexpected = re.match(r"Unexpected (\w+)", error["message"] or "")
    if status == 400 and unexpected and error["code"] is None:  # localstripe's word for an unknown param
        error.update(message=f"Received unknown parameter: {unexpected[1]}", code="parameter_unknown")
        error["param"] = unexpected[1]
    if status == 404 and error["code"] is None:
        error["code"] = "resource_missing"
    if status == 402 and error["type"] == "invalid_request_error":
        _card_error_details(error)
    return error


def _api_error(message: str, status: int = 500) -> web.Response:
    body = {"error": {"type": "api_error", "code": None, "param": None, "message": message}}
    # The SDK retries 5xx answers unless told not to; a bug here will not go away on retry.
    return json_response(body, status=status, headers={"Stripe-Should-Retry": "false"})


@web.middleware
async def stripe_errors_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except UserError as e:
        normalize(e.body["error"], e.code)
        return e.to_response()
    except web.HTTPException as e:
        if request.path.startswith("/v1/") and e.status in (404, 405):
            message = f"Unrecognized request URL ({request.method}: {request.path})."
            error = {"type": "invalid_request_error", "code": None, "param": None, "message": message}
            return json_response({"error": error}, status=404)
        raise
    except Exception as e:  # any bug must still answer in Stripe's format
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _api_error(f"stripe_local internal error: {type(e).__name__}: {e}")
