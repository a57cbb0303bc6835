"""How deeply a JSON document nests, measured before it is parsed.

A JSON parser recurses once per level: a body of 10,000 nested arrays exhausts the recursion limit of
whoever reads it, and the error that follows is not the client's 400. Nothing Agora reads nests deeper than
a handful of levels (a product's attributes, a search's filters), so documents deeper than MAX_DEPTH are
refused before any parser sees them. Brackets inside strings do not count.
"""

from __future__ import annotations

import re
from itertools import accumulate

from market.core.errors import InvalidInput

MAX_DEPTH = 32
TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = [0] * 256
for _open, _close in (b"[]", b"{}"):
    _STEP[_open], _STEP[_close] = 1, -1


def nesting_depth(document: bytes | str) -> int:
    """The deepest level of arrays and objects in `document` (0 for a scalar), counted without parsing it."""
    data = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else bytes(document)
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def exceeds_depth(document: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether `document` nests deeper than `limit`; cheap for the usual document, which has few brackets."""
    data = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if data.count(b"[") + data.count(b"{") <= limit:  # too few brackets to nest that deep: nothing to count
        return False
    return nesting_depth(data) > limit


def check_depth(document: bytes | str, where: str) -> None:
    """Refuse (400) a document that nests deeper than MAX_DEPTH, naming the part of the request it is."""
    if exceeds_depth(document):
        raise InvalidInput("too_deeply_nested", f"{TOO_DEEP}; send a flatter document.", where=where)
