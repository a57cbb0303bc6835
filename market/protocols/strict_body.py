"""Protocol bodies are taken as JSON says them: a quantity sent as "1" (a string) is refused, not read as 1.

Litestar converts a body to its handler's type leniently (a string of digits becomes a number). Agents'
requests are read strictly first, against the same type, so what the API document declares is what is
accepted. A body that is empty or not JSON is left to Litestar's own reading, which names the fault.
"""

from __future__ import annotations

import msgspec
from litestar import Request

from market.core.errors import InvalidInput, split_msgspec_message


async def strict_body(request: Request) -> None:
    """Litestar `before_request` hook: refuse a body whose values are of another JSON type than declared."""
    field = request.route_handler.parsed_data_field
    if field is None:
        return
    body = await request.body()
    if not body.strip():
        return
    try:
        msgspec.json.decode(body, type=field.annotation, strict=True)
    except msgspec.ValidationError as wrong:
        message, path = split_msgspec_message(str(wrong))
        raise InvalidInput.invalid(f"body.{path}" if path else "body", message) from None
    except msgspec.DecodeError:
        return
