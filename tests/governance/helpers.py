"""Search every object of a raw store or archive (local or S3) for a string, decoded."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow.parquet as pq

from callscope.store.objects import Objects


def object_text(key: str, blob: bytes) -> bytes:
    """The bytes as stored, plus what they decode to (gzip records, Parquet rows)."""
    out = blob
    if key.endswith(".gz"):
        out += gzip.decompress(blob)
    if key.endswith(".parquet"):
        rows = pq.read_table(io.BytesIO(blob)).to_pylist()
        out += json.dumps(rows, default=str).encode()
    return out


def grep_objects(objects: Objects, needle: str) -> list[str]:
    hits = []
    for key in objects.keys(""):
        blob = objects.get(key)
        if blob is not None and needle.lower().encode() in object_text(key, blob).lower():
            hits.append(key)
    return hits
