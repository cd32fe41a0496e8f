"""The raw store: every original record, gzip-compressed, by day, so history can be reprocessed.

Layout: ``YYYY/MM/DD/<session_id>.r<revision>.json.gz`` (the session id percent-encoded), on a
local directory or S3-compatible storage. The bytes kept are exactly the payload received.
A call's audio recording (LiveKit's ``recording.ogg``), when uploaded, sits beside its records
as ``YYYY/MM/DD/<session_id>.audio.ogg`` (the day of the call's start, as for the records), so
``delete`` (forget) removes it with them; ``iter`` lists records only.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote, unquote

from callscope.store.base import StoreError
from callscope.store.objects import Objects, open_objects

SUFFIX = ".json.gz"
AUDIO_SUFFIX = ".audio.ogg"


@dataclass(frozen=True)
class RawObject:
    session_id: str
    revision: int
    day: date
    key: str
    data: bytes  # the original payload, decompressed


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def raw_key(session_id: str, revision: int, day: date | datetime) -> str:
    d = _day(day)
    return f"{d:%Y/%m/%d}/{quote(session_id, safe='')}.r{int(revision)}{SUFFIX}"


def audio_key(session_id: str, day: date | datetime) -> str:
    return f"{_day(day):%Y/%m/%d}/{quote(session_id, safe='')}{AUDIO_SUFFIX}"


def parse_key(key: str) -> tuple[str, int, date] | None:
    parts = key.split("/")
    if len(parts) != 4 or not parts[3].endswith(SUFFIX):
        return None
    name, sep, rev = parts[3][: -len(SUFFIX)].rpartition(".r")
    if not sep or not rev.isdigit():
        return None
    try:
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return unquote(name), int(rev), day


class RawStore:
    """``put`` / ``get`` / ``iter`` / ``delete`` over any :class:`Objects` backend."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.url = objects.url

    def put(self, session_id: str, revision: int, day: date | datetime, raw: bytes) -> str:
        key = raw_key(session_id, revision, day)
        # mtime=0: the same payload always compresses to the same bytes (idempotent re-puts).
        self.objects.put(key, gzip.compress(raw, compresslevel=6, mtime=0), "application/gzip")
        return key

    def put_many(self, items: Iterable[tuple[str, int, date | datetime, bytes]]) -> list[str]:
        """``put`` for a batch: ``(session_id, revision, day, raw)`` each; returns the keys."""
        blobs = [
            (raw_key(sid, rev, day), gzip.compress(raw, compresslevel=6, mtime=0))
            for sid, rev, day, raw in items
        ]
        self.objects.put_many(blobs, "application/gzip")
        return [key for key, _ in blobs]

    def get(self, session_id: str, revision: int, day: date | datetime) -> bytes | None:
        blob = self.objects.get(raw_key(session_id, revision, day))
        return None if blob is None else gzip.decompress(blob)

    def put_audio(self, session_id: str, day: date | datetime, data: bytes) -> str:
        """Store a call's audio (Ogg, already compressed: kept as is); returns its key."""
        key = audio_key(session_id, day)
        self.objects.put(key, data, "audio/ogg")
        return key

    def get_audio(self, key: str) -> bytes | None:
        if not key.endswith(AUDIO_SUFFIX):
            raise StoreError(f"{key!r} is not an audio key")
        return self.objects.get(key)

    def iter(
        self, since: date | datetime | None = None, until: date | datetime | None = None
    ) -> Iterator[RawObject]:
        """Every stored record with ``since <= day <= until``, oldest day first."""
        lo = _day(since) if since is not None else None
        hi = _day(until) if until is not None else None
        # Keys sort by day: start listing just before `since`, stop after `until`.
        start = f"{lo - timedelta(days=1):%Y/%m/%d}/~" if lo else ""
        for key in self.objects.keys("", start):
            parsed = parse_key(key)
            if parsed is None:
                continue
            sid, rev, day = parsed
            if lo and day < lo:
                continue
            if hi and day > hi:
                break
            blob = self.objects.get(key)
            if blob is None:  # deleted while listing
                continue
            try:
                data = gzip.decompress(blob)
            except (OSError, EOFError) as exc:
                raise StoreError(f"{self.url}{key}: corrupt gzip object: {exc}") from None
            yield RawObject(sid, rev, day, key, data)

    def delete(self, session_id: str, day: date | datetime | None = None) -> int:
        """Remove every revision of a session and its audio (only that ``day`` when given,
        faster on S3)."""
        name = quote(session_id, safe="") + ".r"
        audio = quote(session_id, safe="") + AUDIO_SUFFIX
        prefix = f"{_day(day):%Y/%m/%d}/" if day is not None else ""
        doomed = []
        for key in self.objects.keys(prefix):
            parsed = parse_key(key)
            base = key.rsplit("/", 1)[-1]
            if (parsed and parsed[0] == session_id and base.startswith(name)) or base == audio:
                doomed.append(key)
        return self.objects.delete(doomed) if doomed else 0


def open_raw(url: str, *, endpoint_url: str | None = None) -> RawStore:
    """A directory, ``file://dir`` or ``s3://bucket/prefix``."""
    return RawStore(open_objects(url, endpoint_url=endpoint_url))


open_raw_store = open_raw  # the name the CLI and worker use
