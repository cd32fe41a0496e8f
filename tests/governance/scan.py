"""Every byte under a data dir, as stored and as decoded, for "is this string anywhere?".

Each file is read raw; gzip and zip files are also decompressed; SQLite and DuckDB files are
also opened and every table dumped as text (DuckDB compresses string columns, so the raw
bytes alone would miss a value that is there); Parquet parts are read back as rows.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class Scan:
    files: int = 0
    bytes_raw: int = 0
    bytes_decoded: int = 0
    views: dict[str, bytes] = field(default_factory=dict)  # "path" or "path#dump" -> bytes

    def hits(self, needle: str) -> list[str]:
        low = needle.lower().encode("utf-8")
        return sorted(name for name, data in self.views.items() if low in data.lower())


def _sqlite_dump(path: Path) -> bytes:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "\n".join(con.iterdump()).encode("utf-8", "replace")
    finally:
        con.close()


def _duckdb_dump(path: Path) -> bytes:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        for schema, name in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()
            out.append(json.dumps(rows, default=str, ensure_ascii=False))
        return "\n".join(out).encode("utf-8")
    finally:
        con.close()


def _decoded(path: Path, blob: bytes) -> bytes | None:
    if path.name.endswith(".gz"):
        return gzip.decompress(blob)
    if zipfile.is_zipfile(io.BytesIO(blob)):
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            return b"\n".join(z.read(n) for n in z.namelist())
    if blob.startswith(SQLITE_MAGIC):
        return _sqlite_dump(path)
    if path.suffix == ".duckdb":
        return _duckdb_dump(path)
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
    return None


def scan(root: Path) -> Scan:
    out = Scan()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        out.files += 1
        out.bytes_raw += len(blob)
        rel = str(path.relative_to(root))
        out.views[rel] = blob
        decoded = _decoded(path, blob)
        if decoded is not None:
            out.bytes_decoded += len(decoded)
            out.views[rel + "#decoded"] = decoded
    return out
