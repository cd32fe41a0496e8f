"""Cold storage: warehouse rows as Parquet, partitioned by day, on a directory or S3.

Layout: ``<table>/date=YYYY-MM-DD/part-<uuid>.parquet`` (Hive partitioning, so DuckDB,
Athena, BigQuery external tables and Spark read it as is). Retention moves rows here before
deleting them from the warehouse.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from callscope.store.base import StoreError
from callscope.store.objects import Objects, open_objects
from callscope.store.schema import TABLE_BY_NAME

_ARROW: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),  # JSON text: Parquet has no portable JSON logical type in pyarrow
}


def _day_of(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise StoreError(f"archive rows need a date/datetime partition value, got {value!r}")


def rows_to_arrow(table: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as returned by ``Store.fetch`` -> an Arrow table typed by the warehouse schema."""
    spec = TABLE_BY_NAME.get(table)
    if spec is None:
        names = list(rows[0]) if rows else []
        return pa.table({n: [r.get(n) for r in rows] for n in names})
    cols: dict[str, pa.Array] = {}
    for c in spec.columns:
        values = [r.get(c.name) for r in rows]
        if c.type == "json":
            values = [
                v if v is None or isinstance(v, str) else orjson.dumps(v).decode() for v in values
            ]
        cols[c.name] = pa.array(values, type=_ARROW[c.type])
    return pa.table(cols)


class Archive:
    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.url = objects.url

    def write(
        self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table, day_column: str
    ) -> list[str]:
        """Write rows into one Parquet file per day of ``day_column``; returns the keys."""
        data = rows if isinstance(rows, pa.Table) else rows_to_arrow(table, rows)
        if data.num_rows == 0:
            return []
        if day_column not in data.column_names:
            raise StoreError(f"archive {table}: no column {day_column!r} to partition by")
        days = [_day_of(v) for v in data.column(day_column).to_pylist()]
        keys = []
        for day in sorted(set(days)):
            mask = pa.array([d == day for d in days])
            part = data.filter(mask)
            buf = io.BytesIO()
            pq.write_table(part, buf, compression="zstd")
            key = f"{table}/date={day.isoformat()}/part-{uuid.uuid4().hex}.parquet"
            self.objects.put(key, buf.getvalue(), "application/vnd.apache.parquet")
            keys.append(key)
        return keys

    def days(self, table: str) -> list[date]:
        out = set()
        for key in self.objects.keys(f"{table}/date="):
            part = key.split("/")[1]
            try:
                out.add(date.fromisoformat(part.removeprefix("date=")))
            except ValueError:
                continue
        return sorted(out)

    def read(self, table: str, since: date | None = None, until: date | None = None) -> pa.Table:
        """Everything archived for ``table`` between two days (inclusive)."""
        parts = []
        for key in self.objects.keys(f"{table}/date="):
            try:
                day = date.fromisoformat(key.split("/")[1].removeprefix("date="))
            except (ValueError, IndexError):
                continue
            if (since and day < since) or (until and day > until):
                continue
            blob = self.objects.get(key)
            if blob is not None:
                parts.append(pq.read_table(io.BytesIO(blob)))
        if not parts:
            spec = TABLE_BY_NAME.get(table)
            if spec is None:
                return pa.table({})
            return pa.schema([(c.name, _ARROW[c.type]) for c in spec.columns]).empty_table()
        return pa.concat_tables(parts, promote_options="default")


def open_archive(url: str, *, endpoint_url: str | None = None) -> Archive:
    """A directory, ``file://dir`` or ``s3://bucket/prefix``."""
    return Archive(open_objects(url, endpoint_url=endpoint_url))
