"""Reading request bodies under a byte cap, before any parsing.

The cap applies to the bytes on the wire and, for ``Content-Encoding: gzip``, to the
decompressed bytes as they are produced, so a decompression bomb is refused after inflating
at most ``cap + 1`` bytes rather than after filling memory.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class BodyError(Exception):
    """A body refused before parsing; ``status`` is the HTTP answer."""

    status: int
    reason: str
    message: str

    def __str__(self) -> str:
        return self.message


_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CHUNK = 64 * 1024


def _too_large(cap: int, what: str) -> BodyError:
    return BodyError(413, "too_large", f"{what} is over the {cap:,}-byte limit")


class _Inflater:
    """Streaming gzip decoder with an output cap (concatenated gzip members allowed)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.out = bytearray()
        self._d = zlib.decompressobj(_GZIP_WBITS)
        self.seen_input = False

    def feed(self, data: bytes) -> None:
        while data:
            self.seen_input = True
            room = self.cap + 1 - len(self.out)
            try:
                chunk = self._d.decompress(data, max(1, min(room, _CHUNK)))
            except zlib.error as exc:
                raise BodyError(400, "bad_gzip", f"bad gzip data: {exc}") from None
            self.out += chunk
            if len(self.out) > self.cap:
                raise _too_large(self.cap, "decompressed body")
            if self._d.eof:
                # Another gzip member may follow (``cat a.gz b.gz`` is valid gzip).
                data = self._d.unused_data
                if data:
                    self._d = zlib.decompressobj(_GZIP_WBITS)
                continue
            data = self._d.unconsumed_tail

    def finish(self) -> bytes:
        if not self.seen_input:
            return b""
        if not self._d.eof:
            try:
                tail = self._d.flush()
            except zlib.error as exc:
                raise BodyError(400, "bad_gzip", f"bad gzip data: {exc}") from None
            self.out += tail
            if len(self.out) > self.cap:
                raise _too_large(self.cap, "decompressed body")
            if not self._d.eof:
                raise BodyError(400, "bad_gzip", "bad gzip data: truncated stream")
        return bytes(self.out)


def content_encoding(header: str | None) -> str:
    """``identity`` or ``gzip``; anything else is refused with 415."""
    value = (header or "").strip().lower()
    if value in ("", "identity"):
        return "identity"
    if value in ("gzip", "x-gzip"):
        return "gzip"
    raise BodyError(
        415,
        "unsupported_encoding",
        f"Content-Encoding {value!r} is not supported (use gzip or none)",
    )


async def read_capped(
    stream: AsyncIterator[bytes], *, cap: int, encoding: str, content_length: str | None = None
) -> bytes:
    """The whole body, decompressed when gzip, refused with 413 as soon as it exceeds ``cap``."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise BodyError(400, "bad_request", "Content-Length is not a number") from None
        # A gzip body can be at most about as large as its content, so the raw cap applies too.
        if declared > cap:
            raise _too_large(cap, "body")
    raw = bytearray()
    wire_bytes = 0
    inflater = _Inflater(cap) if encoding == "gzip" else None
    async for chunk in stream:
        if not chunk:
            continue
        wire_bytes += len(chunk)
        if wire_bytes > cap:
            raise _too_large(cap, "body")
        if inflater is not None:
            inflater.feed(chunk)
        else:
            raw += chunk
    if inflater is not None:
        return inflater.finish()
    return bytes(raw)
