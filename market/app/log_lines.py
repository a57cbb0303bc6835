"""One log record, one line: control characters in what is logged are written escaped.

A log line often carries text from outside (a path, a search query, a seller's name); a line feed in it
(`%0A` in a path) would start a forged line, an escape sequence would drive the terminal reading the log.
Every record made in this process has its message and arguments escaped as it is made, whichever logger
and handler write it (Agora's, Litestar's, uvicorn's): `\\n` is written as the two characters `\\n`. A
traceback keeps its lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from market.core.control_chars import escape_control_characters, has_control_character


def escape_log_records() -> None:
    """From now on, every log record of this process is escaped as it is made. Idempotent."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "escapes_control_characters", False):
        logging.setLogRecordFactory(_escaping(factory))


def _escaping(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make_escaped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.msg = (
            escape_control_characters(record.msg) if isinstance(record.msg, str) else _escaped(record.msg)
        )
        if isinstance(record.args, Mapping):
            record.args = {key: _escaped(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_escaped(value) for value in record.args)
        return record

    make_escaped.escapes_control_characters = True  # type: ignore[attr-defined]
    return make_escaped


def _escaped(value: Any) -> Any:
    """`value` itself when it prints without a control character, else a stand-in that prints it escaped
    (`%r` of a str stays a plain repr). Numbers stay numbers, for `%d` and `%.1f`."""
    if isinstance(value, (int, float)) or value is None:
        return value
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - a value that cannot say what it is: logging reports that itself
        return value
    return _Escaped(value) if has_control_character(text) else value


class _Escaped:
    """Prints as `value` would, with its control characters escaped: `%s`, `%r` and format() alike."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return escape_control_characters(str(self.value))

    def __repr__(self) -> str:
        return escape_control_characters(repr(self.value))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)
