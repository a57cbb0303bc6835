"""Control characters in text from outside: finding one, with where it is, and writing text so none is left.

PostgreSQL refuses NUL in text and in jsonb (a whole statement fails for one character), and a line break or
an escape sequence written to a log forges lines or drives the terminal reading it. Free text (a product
description, a message to the assistant) may hold tab, line feed and carriage return; no other control
character (C0, DEL, C1) has a use in anything Agora stores, nor does a lone surrogate, which UTF-8 cannot
encode. Identifiers, paths and query parameters hold no control character at all.

    find_control_character({"title": "Tent\\x00"})  # ControlCharacter(where="title", message="...")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

_NEVER = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
# The same rules as JSON Schema patterns, for the API's document (a lone surrogate cannot be sent as UTF-8).
FREE_TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
PLAIN_TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
_IN_FREE_TEXT = re.compile(f"[{_NEVER}]")
_ANY = re.compile(f"[\t\n\r{_NEVER}]")


@dataclass(frozen=True)
class ControlCharacter:
    """Where in a value a control character is (a dotted path such as `filters.brand`, `images[2]`; "" for
    the value itself), and what is wrong there: which character, and what is allowed instead."""

    where: str
    message: str


def find_control_character(value: Any, *, free_text: bool = True) -> ControlCharacter | None:
    """The first control character in `value` (a str, or dicts, lists and msgspec Structs holding strs, keys
    included), or None. With `free_text`, tab, line feed and carriage return are allowed."""
    pattern = _IN_FREE_TEXT if free_text else _ANY
    return _find(value, "", pattern, free_text)


def has_control_character(text: str) -> bool:
    """Whether `text` holds any control character, line breaks and tab included."""
    return _ANY.search(text) is not None


def escape_control_characters(text: str) -> str:
    """`text` with every control character (line breaks included) written as its escape: `\\n`, `\\x1b`."""
    return _ANY.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape", "backslashreplace").decode("ascii")


def _find(value: Any, where: str, pattern: re.Pattern[str], free_text: bool) -> ControlCharacter | None:
    if isinstance(value, str):
        found = pattern.search(value)
        return _fault(where, found, free_text, "contains") if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (found := pattern.search(key)):
                return _fault(where, found, free_text, "has a name containing")
            if fault := _find(item, _join(where, str(key)), pattern, free_text):
                return fault
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if fault := _find(item, f"{where}[{index}]", pattern, free_text):
                return fault
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            if fault := _find(getattr(value, name), _join(where, name), pattern, free_text):
                return fault
    return None


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _fault(where: str, found: re.Match[str], free_text: bool, verb: str) -> ControlCharacter:
    allowed = (
        "only tab, line feed and carriage return are allowed, in free text"
        if free_text
        else "no control character is allowed here"
    )
    character = f"U+{ord(found[0]):04X}"
    return ControlCharacter(
        where, f"{verb} the control character {character} at character {found.start() + 1}; {allowed}"
    )
