"""What a request brings is checked here, once, before any handler or dependency reads it.

No path or query parameter may hold a control character; a JSON body must say it is JSON (a Content-Type
other than `application/json` or `application/*+json` is a 415; none at all is read as JSON), may hold tab
and line breaks (free text) but no other control character, and may not nest deeper than
`json_depth.MAX_DEPTH`. A refusal is a 400 (415) in the one error shape, saying what, where (`path.id`,
`query.q`, `body.filters.brand`, `header.Content-Type`) and why. The rules themselves live in
`market.core.control_chars` and `market.core.json_depth`.

A route whose body is a batch checked item by item says so with `opt={ITEMS_CHECKED_ONE_BY_ONE: True}`:
its body is checked for depth here, and each item for control characters where it is read, so that one
bad item does not cost the others. Routes that read their body themselves (catalog upserts and imports)
check it there.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException

from market.core.control_chars import find_control_character
from market.core.dependencies import ITEMS_CHECKED_ONE_BY_ONE, STRICT_JSON_TYPES
from market.core.errors import InvalidInput, UnsupportedMediaType, split_msgspec_message
from market.core.json_depth import check_depth


async def check_input(request: Request) -> None:
    """Litestar's `before_request` hook for every route: raises InvalidInput (UnsupportedMediaType for a body
    that is not JSON) at the first fault."""
    for name, value in request.path_params.items():
        _refuse_control_characters(value, f"path.{name}", free_text=False)
    for name, value in request.query_params.multi_items():
        _refuse_control_characters(name, "query", free_text=False)
        _refuse_control_characters(value, f"query.{name}", free_text=False)
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    if getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON) == RequestEncodingType.JSON:
        _refuse_other_media_types(request)
    check_depth(await request.body(), "body")
    if request.route_handler.opt.get(ITEMS_CHECKED_ONE_BY_ONE):
        return
    try:
        body = await request.json()  # kept by the request: the handler's `data` is decoded from it
    except SerializationException:
        return  # not JSON: decoding `data` says so, in the usual way
    _refuse_control_characters(body, "body", free_text=True)
    if request.route_handler.opt.get(STRICT_JSON_TYPES):
        _refuse_other_json_types(await request.body(), request.route_handler.parsed_data_field.annotation)


def _refuse_other_json_types(body: bytes, declared: Any) -> None:
    """Litestar converts a body to its type leniently (a string of digits becomes a number); read strictly
    against the same type, a value of another JSON type than declared is refused where it is."""
    try:
        msgspec.json.decode(body, type=declared, strict=True)
    except msgspec.ValidationError as wrong:
        message, path = split_msgspec_message(str(wrong))
        raise InvalidInput.invalid(f"body.{path}" if path else "body", message) from None
    except msgspec.DecodeError:
        return  # empty, or not JSON: decoding `data` says so, in the usual way


def _refuse_other_media_types(request: Request) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            "unsupported_media_type",
            f"Content-Type {media_type!r}: send application/json.",
            where="header.Content-Type",
        )


def _refuse_control_characters(value: Any, where: str, *, free_text: bool) -> None:
    if not isinstance(value, (str, dict, list)):
        value = str(value)  # a path parameter already converted (a path, a number)
    fault = find_control_character(value, free_text=free_text)
    if fault is not None:
        at = (
            f"{where}.{fault.where}"
            if fault.where and not fault.where.startswith("[")
            else where + fault.where
        )
        raise InvalidInput("control_character", f"{at} {fault.message}.", where=at)
