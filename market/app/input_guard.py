"""What a request brings is checked here, once, before any handler or dependency reads it.

No path or query parameter may hold a control character; a JSON body may hold tab and line breaks (free
text) but no other control character, and may not nest deeper than `json_depth.MAX_DEPTH`. A refusal is a
400 in the one error shape, saying what, where (`path.id`, `query.q`, `body.filters.brand`) and why. The rules
themselves live in `market.core.control_chars` and `market.core.json_depth`.

A route whose body is a batch checked item by item says so with `opt={ITEMS_CHECKED_ONE_BY_ONE: True}`:
its body is checked for depth here, and each item for control characters where it is read, so that one
bad item does not cost the others. Routes that read their body themselves (catalog upserts and imports)
check it there.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from market.core.control_chars import find_control_character
from market.core.dependencies import ITEMS_CHECKED_ONE_BY_ONE
from market.core.errors import InvalidInput
from market.core.json_depth import check_depth


async def check_input(request: Request) -> None:
    """Litestar's `before_request` hook for every route: raises InvalidInput at the first fault."""
    for name, value in request.path_params.items():
        _refuse_control_characters(value, f"path.{name}", free_text=False)
    for name, value in request.query_params.multi_items():
        _refuse_control_characters(name, "query", free_text=False)
        _refuse_control_characters(value, f"query.{name}", free_text=False)
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return
    check_depth(await request.body(), "body")
    if request.route_handler.opt.get(ITEMS_CHECKED_ONE_BY_ONE):
        return
    try:
        body = await request.json()  # kept by the request: the handler's `data` is decoded from it
    except SerializationException:
        return  # not JSON: decoding `data` says so, in the usual way
    _refuse_control_characters(body, "body", free_text=True)


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
