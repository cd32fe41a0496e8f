"""Turning bytes from files, HTTP bodies and queues into validated SessionRecords.

Every failure becomes a :class:`RecordError` with a one-line message naming the source and,
for schema problems, the field path. Nothing here prints a stack trace to a user.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from callscope.contract.errors import RecordError
from callscope.contract.record import MAX_RECORD_BYTES, SCHEMA_VERSION, SessionRecord
from callscope.contract.semantic import check_depth, check_session_id, check_times, check_values


def looks_like_session_report(data: Mapping[str, Any]) -> bool:
    """LiveKit's ``SessionReport.to_dict()``: has ``chat_history`` and no ``schema_version``."""
    return (
        "schema_version" not in data
        and "chat_history" in data
        and ("job_id" in data or "room" in data or "room_id" in data)
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate_record(data: Any, source: str) -> SessionRecord:
    """Validate one decoded JSON value as a SessionRecord (or a LiveKit SessionReport)."""
    if not isinstance(data, Mapping):
        raise RecordError(
            source, f"expected a JSON object, got {type(data).__name__}", reason="not_an_object"
        )
    # Before anything walks it: a 1,000-deep object must be a clear 422, not a recursion error.
    check_depth(data, source)
    if "schema_version" not in data and isinstance(data.get("record"), Mapping):
        # A labeled case ``{"record": ..., "expected": ...}`` from an evaluation set.
        data = data["record"]
    source_data = data
    if looks_like_session_report(data):
        from callscope.contract.session_report import record_from_session_report

        data = record_from_session_report(dict(data))
    version = data.get("schema_version")
    if version is None:
        raise RecordError(
            source,
            "missing required field",
            field="schema_version",
            reason="schema",
            session_id=_sid(data),
        )
    if str(version) != SCHEMA_VERSION:
        raise RecordError(
            source,
            f"unsupported schema_version {version!r} (this callscope reads {SCHEMA_VERSION!r})",
            field="schema_version",
            reason="schema_version",
            session_id=_sid(data),
        )
    check_session_id(data.get("session_id"), source)
    check_values(data, source)
    try:
        record = SessionRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        suffix = f" (+{more} more)" if more else ""
        raise RecordError(
            source,
            f"{first['msg']}{suffix}",
            field=_field_path(first["loc"]),
            reason="schema",
            session_id=_sid(data),
        ) from None
    check_times(record.started_at, record.ended_at, source, record.session_id)
    record._source = dict(source_data)
    return record


def canonical_payload(record: SessionRecord) -> bytes:
    """The bytes queued for a record: its original JSON with sorted keys.

    Sorted keys make a re-send with another key order or whitespace a duplicate, on every
    path in (CLI ingest, HTTP ingest), while any real change is a new revision.
    """
    data = record._source if record._source is not None else record.model_dump(mode="json")
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def _sid(data: Mapping[str, Any]) -> str | None:
    value = data.get("session_id")
    return value if isinstance(value, str) else None


def decode_json(raw: bytes, source: str) -> Any:
    """Decode UTF-8 JSON with the error kinds users need to tell apart."""
    if not raw.strip():
        raise RecordError(source, "empty input", reason="empty")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            source, f"not valid UTF-8 (byte {exc.start})", reason="encoding"
        ) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError(source, f"malformed JSON: {exc}", reason="malformed_json") from None


def parse_record(raw: bytes | str | Mapping[str, Any], source: str = "<input>") -> SessionRecord:
    """Parse one record from JSON bytes/text or an already-decoded mapping."""
    if isinstance(raw, Mapping):
        return validate_record(raw, source)
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(
            source,
            f"record is {len(data):,} bytes, over the {MAX_RECORD_BYTES:,}-byte limit",
            reason="too_large",
        )
    return validate_record(decode_json(data, source), source)


def iter_records(raw: bytes, source: str) -> Iterator[SessionRecord | RecordError]:
    """Records in a body or file holding one JSON object, a JSON array, or JSON Lines.

    Yields an error in place of each bad record so one bad line never hides the good ones.
    """
    stripped = raw.lstrip()
    if stripped[:1] == b"[" or _single_document(stripped):
        try:
            doc = decode_json(raw, source) if len(raw) <= MAX_RECORD_BYTES * 64 else None
        except RecordError as exc:
            yield exc
            return
        items = doc if isinstance(doc, list) else [doc]
        many = isinstance(doc, list)
        for i, item in enumerate(items):
            where = f"{source}[{i}]" if many else source
            try:
                if many and len(orjson.dumps(item)) > MAX_RECORD_BYTES:
                    raise RecordError(where, "record over the 5 MB limit", reason="too_large")
                yield validate_record(item, where)
            except RecordError as exc:
                yield exc
        return
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield parse_record(line, f"{source}:{lineno}")
        except RecordError as exc:
            yield exc


def _single_document(data: bytes) -> bool:
    # JSON Lines has a newline between objects; a pretty-printed single object has newlines
    # too, so decide by whether the first line alone is a complete JSON value.
    first, sep, rest = data.partition(b"\n")
    if not sep or not rest.strip():
        return True
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return True
    return False


def read_path(path: Path) -> Iterator[SessionRecord | RecordError]:
    """Records from one file (``.json``, ``.jsonl``, ``.gz`` of either); errors name the file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield RecordError(source, f"cannot read: {exc.strerror or exc}", reason="io")
        return
    if path.suffix == ".gz":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            yield RecordError(source, f"bad gzip data: {exc}", reason="encoding")
            return
    if len(raw) > MAX_RECORD_BYTES and not _is_multi(raw):
        yield RecordError(
            source,
            f"file is {len(raw):,} bytes, over the {MAX_RECORD_BYTES:,}-byte limit for one record",
            reason="too_large",
        )
        return
    yield from iter_records(raw, source)


def _is_multi(raw: bytes) -> bool:
    stripped = raw.lstrip()
    return stripped[:1] == b"[" or not _single_document(stripped)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named, and the record files inside directories named, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and _record_suffix(q)))
        else:
            out.append(p)
    return out


def _record_suffix(p: Path) -> bool:
    name = p.name
    return name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz"))
