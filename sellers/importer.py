"""Reading catalogs: a JSON array, NDJSON or CSV, turned into one item per product with its position.

The NDJSON and CSV readers are push parsers: feed them chunks of bytes as they arrive (from an HTTP body
or a file) and they hand back the items completed so far, so a file of any size streams through in
bounded memory. A line that cannot be read becomes an item carrying its problem; the rest go on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from market.core.json_depth import TOO_DEEP, check_depth, exceeds_depth
from sellers.validation import Problem

MAX_LINE_BYTES = 1024 * 1024


@dataclass(slots=True)
class RawItem:
    """One product as read, before validation: `data` is JSON bytes or a dict of CSV cells."""

    index: int
    line: int | None
    data: bytes | dict[str, Any] | None
    problem: Problem | None = None


class MalformedBody(Exception):
    """The body as a whole cannot be read (not JSON, not an array); no item can be salvaged."""


def read_json_array(body: bytes) -> list[RawItem]:
    check_depth(body, "body")  # the whole array is parsed at once: too deep an item refuses the body
    try:
        elements = msgspec.json.decode(body, type=list[msgspec.Raw])
    except msgspec.ValidationError:
        raise MalformedBody("expected a JSON array of products") from None
    except msgspec.DecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None
    return [RawItem(index=index, line=None, data=bytes(raw)) for index, raw in enumerate(elements)]


class _LineSplitter:
    """Splits a byte stream into numbered lines, refusing (not buffering) lines over MAX_LINE_BYTES."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._line_number = 0
        self._overflowing = False

    def feed(self, chunk: bytes) -> Iterator[tuple[int, bytes | None]]:
        """Yields (line number, line) for each complete line; line is None when it was too long."""
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            yield self._complete(chunk[start:end])
            start = end + 1
        self._append(chunk[start:])

    def finish(self) -> Iterator[tuple[int, bytes | None]]:
        if self._pending or self._overflowing:
            yield self._complete(b"")

    def _append(self, piece: bytes) -> None:
        if self._overflowing:
            return
        self._pending += piece
        if len(self._pending) > MAX_LINE_BYTES:
            self._pending.clear()
            self._overflowing = True

    def _complete(self, tail: bytes) -> tuple[int, bytes | None]:
        self._append(tail)
        self._line_number += 1
        line = None if self._overflowing else bytes(self._pending).rstrip(b"\r")
        if self._line_number == 1 and line is not None:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
        self._pending.clear()
        self._overflowing = False
        return self._line_number, line


class NdjsonReader:
    """One JSON object per line; blank lines are skipped."""

    def __init__(self) -> None:
        self._lines = _LineSplitter()
        self._count = 0

    def feed(self, chunk: bytes) -> list[RawItem]:
        return [item for number, line in self._lines.feed(chunk) if (item := self._item(number, line))]

    def finish(self) -> list[RawItem]:
        return [item for number, line in self._lines.finish() if (item := self._item(number, line))]

    def _item(self, number: int, line: bytes | None) -> RawItem | None:
        if line is not None and not line.strip():
            return None
        item = RawItem(index=self._count, line=number, data=line)
        if line is None:
            item.problem = Problem(None, f"line is longer than {MAX_LINE_BYTES} bytes")
        self._count += 1
        return item


# CSV columns and where they go in a product. `attr.<name>` columns become attributes. The feed's former
# names (`id`, `link`, ...) are columns too: a row may fill a field under either name, not both.
_CSV_TEXT_COLUMNS = {
    "item_id", "id", "title", "description", "brand", "category", "availability", "url", "link",
    "image_url", "image_link", "gtin", "group_id", "item_group_id", "condition", "store_country",
    "seller_name", "marketplace_seller", "inventory_quantity", "return_deadline_in_days",
}  # fmt: skip
_CSV_BOOLEAN_COLUMNS = {
    "is_eligible_search", "is_eligible_checkout", "enable_search", "enable_checkout",
    "listing_has_variations", "accepts_returns",
}  # fmt: skip
_CSV_MONEY_COLUMNS = {
    f"{money}_{part}": (money, part)
    for money in ("price", "list_price", "shipping_price")
    for part in ("amount", "currency")
}
# Lists in one cell, and what separates their items (URLs keep their commas).
_CSV_LIST_COLUMNS = {
    "images": r"[|\s]+",
    "additional_image_urls": r"[|\s]+",
    "target_countries": r"[|,\s]+",
}
CSV_COLUMNS = frozenset(
    _CSV_TEXT_COLUMNS
    | _CSV_BOOLEAN_COLUMNS
    | set(_CSV_MONEY_COLUMNS)
    | set(_CSV_LIST_COLUMNS)
    | {"attributes"}
)
_FIELD_TO_COLUMN = {f"{outer}.{inner}": column for column, (outer, inner) in _CSV_MONEY_COLUMNS.items()}
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}


class CsvReader:
    """A header row, then one product per record. Quoted cells may span lines.

    Cells: `price_amount`, `list_price_amount` and `shipping_price_amount` in minor units;
    `additional_image_urls` separated by `|` or spaces, `target_countries` by commas too; `attributes` a
    JSON object, and any `attr.<name>` column one attribute; booleans as true/false.
    """

    def __init__(self) -> None:
        self._lines = _LineSplitter()
        self._header: list[str] | None = None
        self._record: list[bytes] = []
        self._record_line = 0
        self._quotes = 0
        self._count = 0

    def feed(self, chunk: bytes) -> list[RawItem]:
        return [item for number, line in self._lines.feed(chunk) if (item := self._take_line(number, line))]

    def finish(self) -> list[RawItem]:
        items = [item for number, line in self._lines.finish() if (item := self._take_line(number, line))]
        if self._record:  # an opening quote was never closed
            items.append(
                self._new_item(self._record_line, None, Problem(None, "a quoted cell is never closed"))
            )
            self._record = []
        return items

    def _take_line(self, number: int, line: bytes | None) -> RawItem | None:
        if line is None:
            self._record, self._quotes = [], 0
            return self._new_item(number, None, Problem(None, f"line is longer than {MAX_LINE_BYTES} bytes"))
        if not self._record:
            self._record_line = number
        self._record.append(line)
        # CSV doubles quotes inside quoted cells, so a record is complete when its quote count is even.
        self._quotes += line.count(b'"')
        if self._quotes % 2:
            return None
        text, self._record, self._quotes = b"\n".join(self._record), [], 0
        return self._parse_record(self._record_line, text)

    def _parse_record(self, line: int, text: bytes) -> RawItem | None:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self._new_item(
                line, None, Problem(None, f"not UTF-8 text: {exc.reason} at byte {exc.start}")
            )
        if not decoded.strip():
            return None
        cells = next(csv.reader([decoded]))
        if self._header is None:
            self._header = self._check_header(cells)
            return None
        if len(cells) != len(self._header):
            return self._new_item(
                line, None, Problem(None, f"has {len(cells)} cells but the header has {len(self._header)}")
            )
        try:
            return self._new_item(line, self._product(cells))
        except Problem as problem:
            return self._new_item(line, None, problem)

    def _new_item(self, line: int, data: dict[str, Any] | None, problem: Problem | None = None) -> RawItem:
        item = RawItem(index=self._count, line=line, data=data, problem=problem)
        self._count += 1
        return item

    @staticmethod
    def _check_header(cells: list[str]) -> list[str]:
        header = [cell.strip() for cell in cells]
        unknown = [name for name in header if name not in CSV_COLUMNS and not name.startswith("attr.")]
        if unknown:
            raise MalformedBody(
                f"unknown CSV column(s) {', '.join(unknown)}; known columns: {', '.join(sorted(CSV_COLUMNS))}"
                ", and attr.<name> for one attribute"
            )
        if "item_id" not in header and "id" not in header:
            raise MalformedBody("the CSV header has no 'item_id' column (or 'id', its former name)")
        return header

    def _product(self, cells: list[str]) -> dict[str, Any]:
        assert self._header is not None
        product: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for column, cell in zip(self._header, cells):
            if cell == "":
                continue
            if column in _CSV_TEXT_COLUMNS:
                product[column] = cell
            elif column in _CSV_BOOLEAN_COLUMNS:
                product[column] = _boolean(cell, column)
            elif column in _CSV_MONEY_COLUMNS:
                outer, inner = _CSV_MONEY_COLUMNS[column]
                product.setdefault(outer, {})[inner] = cell
            elif column in _CSV_LIST_COLUMNS:
                product[column] = [item for item in re.split(_CSV_LIST_COLUMNS[column], cell) if item]
            elif column == "attributes":
                attributes.update(_json_object(cell))
            else:
                attributes[column.removeprefix("attr.")] = cell
        if attributes:
            product["attributes"] = attributes
        return product


def csv_column_for(field: str | None) -> str | None:
    """The CSV column a product field came from, so that an error points at the cell to fix."""
    if field is None:
        return None
    field = field.split("[", 1)[0]  # a list's cell: `images[2]` is the images column
    if field.startswith("attributes."):
        return "attr." + field.removeprefix("attributes.")
    return _FIELD_TO_COLUMN.get(field, field)


def _boolean(cell: str, column: str) -> bool:
    lowered = cell.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise Problem(column, f"expected true or false, got {cell!r}")


def _json_object(cell: str) -> dict[str, Any]:
    if exceeds_depth(cell):
        raise Problem("attributes", TOO_DEEP)
    try:
        value = msgspec.json.decode(cell)
    except msgspec.DecodeError as exc:
        raise Problem("attributes", f"not a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise Problem("attributes", 'must be a JSON object such as {"size": "M"}')
    return value
