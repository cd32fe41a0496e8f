"""What LiveKit agents send to ``/observability/*``: recordings, spans, logs and metric points.

A small SQLite file (``<data_dir>/observability.sqlite3``) beside the queue, like the LiveKit
webhook's room tracker: the ingest writes it without touching the warehouse (DuckDB allows one
writer, and it belongs to the worker), the dashboard reads it for the session page's
waterfall, and several ``--http-workers`` processes can write it at once (WAL).

Tables:

- ``recordings(job_id PK, room_id, session_id, header BLOB, chat_history BLOB, audio_key,
  received_at)``: the last recording upload of each job, kept so OTLP logs that arrive after
  it (evaluations, outcome) can rebuild its record, and to map a session to its job and room.
- ``spans(trace_id, span_id PK, parent_id, job_id, room_id, name, start_ns, end_ns,
  attributes JSON)``: one row per OTLP span; an exporter retry re-sends the same ids.
- ``logs(id PK, job_id, room_id, scope, at_ns, severity, body, attributes JSON)``: ``id`` is
  a digest of the record, so a retried batch is not stored twice.
- ``metric_points(id PK, job_id, room_id, name, kind, unit, start_ns, at_ns, value, count)``:
  delta points (LiveKit exports DELTA temporality), summed per session when read.

Spans and logs carry ``job_id`` and ``room_id`` attributes (LiveKit stamps them on every
record); a session is found through ``recordings`` (session id = room name, as elsewhere).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    job_id TEXT PRIMARY KEY,
    room_id TEXT,
    session_id TEXT NOT NULL,
    header BLOB NOT NULL,
    chat_history BLOB,
    audio_key TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_session ON recordings (session_id);
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_id TEXT,
    job_id TEXT,
    room_id TEXT,
    name TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_job ON spans (job_id, start_ns);
CREATE TABLE IF NOT EXISTS logs (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    room_id TEXT,
    scope TEXT,
    at_ns INTEGER NOT NULL,
    severity TEXT,
    body TEXT,
    attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_job ON logs (job_id, at_ns);
CREATE TABLE IF NOT EXISTS metric_points (
    id TEXT PRIMARY KEY,
    job_id TEXT,
    room_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT,
    start_ns INTEGER,
    at_ns INTEGER NOT NULL,
    value REAL NOT NULL,
    count INTEGER
);
CREATE INDEX IF NOT EXISTS metric_points_job ON metric_points (job_id);
"""

# What forget and retention read and rewrite: each table's key, its free-text columns (the
# header is protobuf, its ``session_summary`` JSON) and its age column with the factor from
# Unix seconds to that column's unit.
KEYS: dict[str, tuple[str, ...]] = {
    "recordings": ("job_id",),
    "spans": ("trace_id", "span_id"),
    "logs": ("id",),
    "metric_points": ("id",),
}
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "recordings": ("header", "chat_history", "session_id", "audio_key"),
    "spans": ("name", "attributes"),
    "logs": ("body", "attributes"),
}
AGE: dict[str, tuple[str, float]] = {
    "recordings": ("received_at", 1.0),
    "spans": ("start_ns", 1e9),
    "logs": ("at_ns", 1e9),
    "metric_points": ("at_ns", 1e9),
}


@dataclass(frozen=True)
class Recording:
    job_id: str
    room_id: str
    session_id: str
    header: bytes
    chat_history: bytes | None
    audio_key: str | None


@dataclass(frozen=True)
class SpanRow:
    trace_id: str
    span_id: str
    parent_id: str
    job_id: str
    room_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class LogRow:
    id: str
    job_id: str
    room_id: str
    scope: str
    at_ns: int
    severity: str
    body: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class MetricPoint:
    id: str
    job_id: str
    room_id: str
    name: str
    kind: str  # "sum" | "gauge" | "histogram"
    unit: str
    start_ns: int
    at_ns: int
    value: float  # the sum for a histogram
    count: int | None


class TelemetryStore:
    """Thread-safe; one connection per process, WAL so readers never block the ingest."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    # -- writes -----------------------------------------------------------------------------
    def put_recording(self, rec: Recording) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO recordings (job_id, room_id, session_id, header, chat_history, "
                "audio_key, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id) DO "
                "UPDATE SET room_id = excluded.room_id, session_id = excluded.session_id, "
                "header = excluded.header, chat_history = excluded.chat_history, "
                "audio_key = COALESCE(excluded.audio_key, recordings.audio_key), "
                "received_at = excluded.received_at",
                (
                    rec.job_id,
                    rec.room_id,
                    rec.session_id,
                    rec.header,
                    rec.chat_history,
                    rec.audio_key,
                    time.time(),
                ),
            )

    def add_spans(self, spans: Sequence[SpanRow]) -> int:
        rows = [
            (
                s.trace_id,
                s.span_id,
                s.parent_id,
                s.job_id,
                s.room_id,
                s.name,
                s.start_ns,
                s.end_ns,
                orjson.dumps(s.attributes, option=orjson.OPT_SORT_KEYS).decode(),
            )
            for s in spans
        ]
        return self._insert("INSERT OR IGNORE INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def add_logs(self, logs: Sequence[LogRow]) -> int:
        rows = [
            (
                r.id,
                r.job_id,
                r.room_id,
                r.scope,
                r.at_ns,
                r.severity,
                r.body,
                orjson.dumps(r.attributes, option=orjson.OPT_SORT_KEYS).decode(),
            )
            for r in logs
        ]
        return self._insert("INSERT OR IGNORE INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def add_metrics(self, points: Sequence[MetricPoint]) -> int:
        rows = [
            (
                p.id,
                p.job_id,
                p.room_id,
                p.name,
                p.kind,
                p.unit,
                p.start_ns,
                p.at_ns,
                p.value,
                p.count,
            )
            for p in points
        ]
        return self._insert(
            "INSERT OR IGNORE INTO metric_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )

    def _insert(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def delete_sessions(self, session_ids: Iterable[str]) -> int:
        """Everything kept for these sessions (forget); returns the rows removed."""
        ids = sorted(set(session_ids))
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self._lock:
            jobs = [
                r[0]
                for r in self._db.execute(
                    f"SELECT job_id FROM recordings WHERE session_id IN ({marks})", ids
                )
            ]
            before = self._db.total_changes
            self._db.execute("BEGIN")
            if jobs:
                jm = ",".join("?" * len(jobs))
                for table in ("spans", "logs", "metric_points"):
                    self._db.execute(f"DELETE FROM {table} WHERE job_id IN ({jm})", jobs)
            self._db.execute(f"DELETE FROM recordings WHERE session_id IN ({marks})", ids)
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    # -- governance (forget, retention) -----------------------------------------------------
    def rows(self, table: str, before: float | None = None) -> list[dict[str, Any]]:
        """Every row of ``table`` (keys, text columns, age), oldest first; ``before`` is a
        Unix time: only rows older than it."""
        keys, texts, age = KEYS[table], TEXT_COLUMNS.get(table, ()), AGE[table]
        cols = ", ".join([*dict.fromkeys((*keys, *texts, "job_id")), f"{age[0]} AS age"])
        where, args = ("", ()) if before is None else (f" WHERE {age[0]} < ?", (before * age[1],))
        with self._lock:
            cur = self._db.execute(f"SELECT {cols} FROM {table}{where} ORDER BY {age[0]}", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def update(self, table: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Rewrite text columns of one row (scrubbed or redacted values)."""
        sets = ", ".join(f"{c} = ?" for c in changes)
        where = " AND ".join(f"{k} = ?" for k in key)
        with self._lock:
            self._db.execute(
                f"UPDATE {table} SET {sets} WHERE {where}", [*changes.values(), *key.values()]
            )

    def delete_jobs(self, job_ids: Iterable[str]) -> int:
        """Spans, logs, metric points and recordings of these jobs (forget)."""
        ids = sorted(set(job_ids))
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            for table in ("spans", "logs", "metric_points", "recordings"):
                self._db.execute(f"DELETE FROM {table} WHERE job_id IN ({marks})", ids)
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def delete_older(self, table: str, before: float) -> int:
        """Rows of ``table`` older than the Unix time ``before`` (retention)."""
        col, scale = AGE[table]
        with self._lock:
            return self._db.execute(
                f"DELETE FROM {table} WHERE {col} < ?", (before * scale,)
            ).rowcount

    def compact(self) -> None:
        """Deleted and rewritten rows leave the file: ``VACUUM``, then an emptied WAL."""
        with self._lock:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reads ------------------------------------------------------------------------------
    def recording(self, job_id: str) -> Recording | None:
        with self._lock:
            row = self._db.execute(
                "SELECT job_id, room_id, session_id, header, chat_history, audio_key "
                "FROM recordings WHERE job_id = ?",
                (job_id,),
            ).fetchone()
        return Recording(*row) if row else None

    def recordings_for_session(self, session_id: str) -> list[Recording]:
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, room_id, session_id, header, chat_history, audio_key "
                "FROM recordings WHERE session_id = ? ORDER BY received_at",
                (session_id,),
            ).fetchall()
        return [Recording(*r) for r in rows]

    def spans(self, job_id: str) -> list[SpanRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT trace_id, span_id, parent_id, job_id, room_id, name, start_ns, end_ns, "
                "attributes FROM spans WHERE job_id = ? ORDER BY start_ns",
                (job_id,),
            ).fetchall()
        return [
            SpanRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], orjson.loads(r[8]))
            for r in rows
        ]

    def logs(self, job_id: str, scopes: Sequence[str] | None = None) -> list[LogRow]:
        query = (
            "SELECT id, job_id, room_id, scope, at_ns, severity, body, attributes "
            "FROM logs WHERE job_id = ?"
        )
        args: list[Any] = [job_id]
        if scopes:
            query += f" AND scope IN ({','.join('?' * len(scopes))})"
            args.extend(scopes)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY at_ns, id", args).fetchall()
        return [LogRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], orjson.loads(r[7])) for r in rows]

    def metric_totals(self, job_id: str) -> dict[str, dict[str, Any]]:
        """Per metric name: the summed delta points (``value``; ``count`` for histograms)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, kind, unit, SUM(value), SUM(count), MAX(at_ns) FROM metric_points "
                "WHERE job_id = ? GROUP BY name, kind, unit ORDER BY name",
                (job_id,),
            ).fetchall()
        return {
            r[0]: {"kind": r[1], "unit": r[2], "value": r[3], "count": r[4], "at_ns": r[5]}
            for r in rows
        }

    def annotations(self, job_id: str) -> dict[str, Any]:
        """What LiveKit's ``evaluations`` logger sent for the job (evaluations, outcome, tag
        metadata) and its metric totals: what a recording's record is completed with."""
        out: dict[str, Any] = {"evaluations": [], "outcome": None, "tag_metadata": {}}
        for row in self.logs(job_id, scopes=["evaluations"]):
            attrs = row.attributes
            if row.body == "evaluation" and isinstance(attrs.get("evaluation"), dict):
                out["evaluations"].append(attrs["evaluation"])
            elif row.body == "outcome" and isinstance(attrs.get("outcome"), dict):
                out["outcome"] = attrs["outcome"]
            elif row.body == "tag" and isinstance(attrs.get("tag"), dict):
                tag = attrs["tag"]
                if tag.get("name"):
                    out["tag_metadata"][str(tag["name"])] = tag.get("metadata")
        out["metrics"] = self.metric_totals(job_id)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()


def telemetry_path(data_dir: Path) -> Path:
    return data_dir / "observability.sqlite3"
