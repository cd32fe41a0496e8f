"""Deleting one person from the raw store and the archive, local or S3, via their public API.

``RawStore`` keeps one gzip object per record revision, so a record that mentions the person
goes whole (with every other revision of that session on that day). The archive keeps Parquet
parts; a part that holds the person's rows is rewritten without them, under the same key
(``Objects.put`` is atomic on both backends, so a reader sees the old part or the new one), or
deleted when nothing is left. Both scan everything they hold: forgetting is rare, and a record
not yet in the warehouse (so with no known session id) can only be found by its content.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from callscope.store.archive import Archive, rows_to_arrow
from callscope.store.raw import RawStore

PARQUET = ".parquet"


def mentions(data: bytes, needles: Iterable[str]) -> bool:
    low = data.lower()
    return any(n and n.lower().encode("utf-8") in low for n in needles)


def forget_raw(raw: RawStore, session_ids: set[str], needles: Sequence[str]) -> list[str]:
    """Delete every raw record of ``session_ids`` or mentioning a needle; returns their keys."""
    doomed: dict[tuple[str, date], list[str]] = {}
    for obj in raw.iter():
        if obj.session_id in session_ids or mentions(obj.data, needles):
            doomed.setdefault((obj.session_id, obj.day), []).append(obj.key)
    # Listed first, deleted after: deleting while a paginated S3 listing runs is allowed,
    # but a finished listing makes the report exact.
    keys: list[str] = []
    for (sid, day), found in sorted(doomed.items()):
        raw.delete(sid, day)
        keys.extend(found)
    return sorted(keys)


@dataclass
class ArchiveDeletion:
    rows: int = 0
    files: list[str] = field(default_factory=list)


def _doomed_mask(table: pa.Table, needles: Sequence[str], session_ids: set[str]) -> pa.Array:
    doomed = pa.array([False] * table.num_rows)
    for name in table.column_names:
        col = table.column(name)
        if name == "session_id" and session_ids:
            hit = pc.is_in(col, value_set=pa.array(sorted(session_ids), type=col.type))
            doomed = pc.or_(doomed, pc.fill_null(hit, False))
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            lowered = pc.utf8_lower(col)
            for needle in needles:
                hit = pc.fill_null(pc.match_substring(lowered, needle.lower()), False)
                doomed = pc.or_(doomed, hit)
    return doomed


def delete_where(
    archive: Archive, needles: Sequence[str], session_ids: set[str]
) -> ArchiveDeletion:
    """Remove archived rows whose ``session_id`` is listed or whose text holds a needle."""
    out = ArchiveDeletion()
    for key in sorted(k for k in archive.objects.keys("") if k.endswith(PARQUET)):
        blob = archive.objects.get(key)
        if blob is None:  # removed by someone else while listing
            continue
        table = pq.read_table(io.BytesIO(blob))
        doomed = _doomed_mask(table, needles, session_ids)
        n = int(pc.sum(pc.cast(doomed, pa.int64())).as_py() or 0)
        if not n:
            continue
        out.rows += n
        out.files.append(key)
        kept = table.filter(pc.invert(doomed))
        if kept.num_rows:
            buf = io.BytesIO()
            pq.write_table(kept, buf, compression="zstd")
            archive.objects.put(key, buf.getvalue(), "application/vnd.apache.parquet")
        else:
            archive.objects.delete([key])
    return out


def archive_with_day(
    archive: Archive, table: str, rows: Sequence[Mapping[str, Any]], day_column: str
) -> list[str]:
    """``Archive.write`` for rows carrying an extra partition column the schema lacks.

    ``rows_to_arrow`` types rows by the warehouse schema and keeps only its columns; the
    call's start (what retention partitions transcripts by) is added back as a UTC timestamp.
    """
    data = rows_to_arrow(table, rows)
    if day_column not in data.column_names:
        days = [_utc(r[day_column]) for r in rows]
        data = data.append_column(day_column, pa.array(days, type=pa.timestamp("us", tz="UTC")))
    return archive.write(table, data, day_column)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
