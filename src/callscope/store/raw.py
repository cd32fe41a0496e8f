"""The raw store: every original record, gzip-compressed, by day, so history can be reprocessed.

Layout: ``YYYY/MM/DD/<name>.r<revision>.json.gz`` on a local directory or S3-compatible
storage, where ``<name>`` is the session id percent-encoded, or ``=<sha256 of the id>`` when
that would be long (file systems refuse names over 255 bytes; the schema allows 512-character
ids, up to 4.6 KB percent-encoded). ``=`` never appears in a
percent-encoded name, so the two forms cannot collide; a hashed record's id is read back from
its payload. The bytes kept are exactly the payload received.
A call's audio recording (LiveKit's ``recording.ogg``), when uploaded, sits beside its records
as ``YYYY/MM/DD/<name>.audio.ogg`` (the day of the call's start, as for the records), so
``delete`` (forget) removes it with them; ``iter`` lists records only.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote, unquote

from callscope.store.base import StoreError
from callscope.store.objects import Objects, open_objects

SUFFIX = ".json.gz"
# Room for ".r<revision>.json.gz" (up to 30 bytes) inside a 255-byte file name.
MAX_PLAIN_NAME = 200
HASHED = "="
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


def key_name(session_id: str) -> str:
    """The file-name form of a session id: percent-encoded, or hashed when unsafe as a name."""
    plain = quote(session_id, safe="")
    if len(plain) <= MAX_PLAIN_NAME:
        return plain
    return HASHED + hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def raw_key(session_id: str, revision: int, day: date | datetime) -> str:
    d = _day(day)
    return f"{d:%Y/%m/%d}/{key_name(session_id)}.r{int(revision)}{SUFFIX}"


def _payload_session_id(data: bytes) -> str | None:
    import orjson

    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("record"), dict) and "session_id" not in doc:
        doc = doc["record"]
    if not isinstance(doc, dict):
        return None
    for k in ("session_id", "room", "job_id", "room_id"):  # a SessionReport has no session_id
        if isinstance(doc.get(k), str):
            return str(doc[k])
    return None


def audio_key(session_id: str, day: date | datetime) -> str:
    return f"{_day(day):%Y/%m/%d}/{key_name(session_id)}{AUDIO_SUFFIX}"


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
    return (name if name.startswith(HASHED) else unquote(name)), int(rev), day


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
            if sid.startswith(HASHED):
                sid = _payload_session_id(data) or sid
            yield RawObject(sid, rev, day, key, data)

    def audio(self, until: date | datetime | None = None) -> Iterator[tuple[str, date, str]]:
        """``(name, day, key)`` of every stored call audio, oldest day first (``until``
        inclusive); ``name`` is the session id's key form (:func:`key_name`)."""
        hi = _day(until) if until is not None else None
        for key in self.objects.keys(""):
            parts = key.split("/")
            if len(parts) != 4 or not parts[3].endswith(AUDIO_SUFFIX):
                continue
            try:
                day = date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                continue
            if hi and day > hi:
                break
            yield parts[3][: -len(AUDIO_SUFFIX)], day, key

    def delete_audio_of(self, session_ids: Iterable[str]) -> list[str]:
        """Remove the audio of these sessions on any day; returns the keys removed."""
        ids = set(session_ids)
        names = {key_name(s) for s in ids} | {quote(s, safe="") for s in ids}
        doomed = [key for name, _, key in self.audio() if name in names]
        if doomed:
            self.objects.delete(doomed)
        return doomed

    def delete(self, session_id: str, day: date | datetime | None = None) -> int:
        """Remove every revision of a session and its audio (only that ``day`` when given,
        faster on S3)."""
        # Both forms: records stored before ids were hashed keep their percent-encoded names.
        plain = quote(session_id, safe="")
        names = {key_name(session_id) + ".r", plain + ".r"}
        audio = {key_name(session_id) + AUDIO_SUFFIX, plain + AUDIO_SUFFIX}
        prefix = f"{_day(day):%Y/%m/%d}/" if day is not None else ""
        doomed = []
        for key in self.objects.keys(prefix):
            parsed = parse_key(key)
            base = key.rsplit("/", 1)[-1]
            same = parsed is not None and (parsed[0].startswith(HASHED) or parsed[0] == session_id)
            if (same and any(base.startswith(n) for n in names)) or base in audio:
                doomed.append(key)
        return self.objects.delete(doomed) if doomed else 0


def open_raw(url: str, *, endpoint_url: str | None = None) -> RawStore:
    """A directory, ``file://dir`` or ``s3://bucket/prefix``."""
    return RawStore(open_objects(url, endpoint_url=endpoint_url))


open_raw_store = open_raw  # the name the CLI and worker use
