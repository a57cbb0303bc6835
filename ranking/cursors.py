"""Next-page cursors that any serving process can continue, signed so that a client cannot make one up.

A cursor carries what its next page needs: the search it continues (id, query, filters), how many positions
were shown before, and which products were. The process that served the first page keeps the ranked list
and continues it exactly; any other process (another worker of `agora serve`, another replica) ranks the
query again and shows what the earlier pages did not, so nothing is shown twice even if the ranking moved
in between. The signature (HMAC-SHA256 under a key every process of one service shares) keeps forged
cursors out: a made-up offset or product list would put false positions into the impressions the
reranker learns from.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

import msgspec
import numpy as np

from ranking.filters import SearchFilters

SIGNATURE_BYTES = 16


class PageState(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    search_id: bytes
    query: str
    filters: SearchFilters
    offset: int  # positions shown before the next page
    shown: list[int]  # the products shown (or passed over as stale) so far, as sorted gaps

    @classmethod
    def of(cls, search_id: uuid.UUID, query: str, filters: SearchFilters, offset: int, shown: set[int]):
        ordered = np.array(sorted(shown), dtype=np.int64)
        return cls(search_id.bytes, query, filters, offset, np.diff(ordered, prepend=0).tolist())

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.search_id)

    def shown_ids(self) -> set[int]:
        return set(np.cumsum(np.array(self.shown, dtype=np.int64)).tolist())


class InvalidCursor(ValueError):
    """Not a cursor this service made."""


class CursorSigner:
    """Turns a `PageState` into an opaque, URL-safe string and back, refusing anything not signed by `key`."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(PageState)

    @classmethod
    def from_secret(cls, secret: str) -> CursorSigner:
        """A signer keyed from a secret the service's processes share (the operator token)."""
        return cls(hashlib.sha256(b"agora search cursor\0" + secret.encode()).digest())

    def encode(self, state: PageState) -> str:
        body = self._encoder.encode(state)
        return _b64(body) + "." + _b64(self._sign(body))

    def decode(self, cursor: str) -> PageState:
        body_text, _, signature_text = cursor.partition(".")
        try:
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            raise InvalidCursor("not a cursor") from None
        if not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidCursor("not a cursor this service made")
        try:
            state = self._decoder.decode(body)
        except msgspec.DecodeError:  # signed but of another layout: made by an older version
            raise InvalidCursor("a cursor of another version") from None
        if len(state.search_id) != 16 or state.offset < 0 or any(gap < 0 for gap in state.shown):
            raise InvalidCursor("a malformed cursor")
        return state

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
