"""What DuckDB and PostgreSQL stores share: the write plan, deletes and read helpers.

A backend supplies a transaction object (:class:`Tx`) with bulk primitives; the rules
(idempotency, revision replacement, analyzer-version history, consent) live here once.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from callscope.store.base import AlertRecord, Deletion, Params, ProcessedSession
from callscope.store.rows import Row, Rows, build_rows, dumps
from callscope.store.schema import (
    ALERTS_HISTORY,
    ANALYSIS_RESULTS,
    PER_SESSION_TABLES,
    TABLE_BY_NAME,
    TABLES,
    Table,
)
from callscope.store.sql import check_table, named

TABLE_NAMES = tuple(t.name for t in TABLES)
_ANALYSIS_KEY = ("session_id", "module", "analyzer_version")


class Tx(Protocol):
    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def exec(self, sql: str, params: Params = ()) -> int: ...

    def lock(self, session_ids: Sequence[str]) -> None: ...

    def revisions(self, session_ids: Sequence[str]) -> dict[str, int]: ...

    def delete_sessions(self, table: str, session_ids: Sequence[str]) -> int: ...

    def existing_ids(self, table: str, column: str, values: Sequence[str]) -> set[str]: ...

    def delete_keys(
        self, table: Table, cols: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
    ) -> int: ...

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Bulk-load rows (column name -> value; a missing column is NULL)."""
        ...


def latest_per_session(batch: Sequence[ProcessedSession]) -> list[ProcessedSession]:
    """One entry per session: the highest revision, the later one on a tie."""
    latest: dict[str, ProcessedSession] = {}
    for p in batch:
        cur = latest.get(p.session_id)
        if cur is None or p.revision >= cur.revision:
            latest[p.session_id] = p
    return list(latest.values())


class SqlStore(ABC):
    url: str

    def __init__(self, tool_kinds: Mapping[str, str] | None = None) -> None:
        self.tool_kinds: dict[str, str] = dict(tool_kinds or {})

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Tx]: ...

    @abstractmethod
    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int: ...

    # -- writes ---------------------------------------------------------------------------

    def write(self, batch: Sequence[ProcessedSession]) -> None:
        latest = latest_per_session(batch)
        if latest:
            self.write_rows(build_rows(latest, self.tool_kinds))

    def write_rows(self, rows: Rows) -> None:
        """Write prebuilt rows (one revision per session) in one transaction.

        A session stored at a higher revision keeps it; the same or a lower one is replaced.
        """
        revisions = {r["session_id"]: int(r["revision"]) for r in rows.tables["sessions"]}
        ids = list(revisions)
        if not ids:
            return
        with self._tx() as tx:
            tx.lock(ids)
            stored = tx.revisions(ids)
            stale = {i for i, rev in revisions.items() if stored.get(i, -1) > rev}
            if stale:
                # An older revision arriving late never overwrites a newer one.
                rows.drop(stale)
                ids = [i for i in ids if i not in stale]
            if not ids:
                return
            # Child rows only ever exist next to their `sessions` row (every path that removes
            # a session removes them too), so a session not stored yet has nothing to replace:
            # the deletes, full scans in DuckDB, run for re-sent sessions only.
            replaced = [i for i in ids if i in stored]
            if replaced:
                for table in PER_SESSION_TABLES:
                    tx.delete_sessions(table, replaced)
                again = set(replaced)
                keys = [k for k in rows.analysis_keys() if k[0] in again]
                tx.delete_keys(ANALYSIS_RESULTS, _ANALYSIS_KEY, keys)
            # Parent first: a reader never sees child rows without their session.
            for name in ("sessions", *(t for t in TABLE_NAMES if t != "sessions")):
                if rows.tables.get(name):
                    tx.insert(TABLE_BY_NAME[name], rows.tables[name])

    def write_alert(
        self,
        rule: str,
        message: str,
        *,
        severity: str = "info",
        session_id: str | None = None,
        channel: str | None = None,
        payload: Mapping[str, Any] | None = None,
        fired_at: datetime | None = None,
        alert_id: str | None = None,
    ) -> str:
        """Record a fired alert; an ``alert_id`` already stored is kept, not duplicated."""
        alert = AlertRecord(
            rule, message, severity, session_id, channel, payload, fired_at, alert_id
        )
        return self.write_alerts([alert])[0]

    def write_alerts(self, alerts: Sequence[AlertRecord]) -> list[str]:
        """Record fired alerts in one transaction; returns their ids in order.

        An ``alert_id`` already stored (or repeated in ``alerts``) is kept once, the first.
        """
        now = datetime.now(UTC)
        ids = [a.alert_id or uuid.uuid4().hex for a in alerts]
        fresh: dict[str, Row] = {}
        for aid, a in zip(ids, alerts, strict=True):
            if aid not in fresh:
                fresh[aid] = {
                    "id": aid,
                    "fired_at": a.fired_at or now,
                    "rule": a.rule,
                    "severity": a.severity,
                    "session_id": a.session_id,
                    "message": a.message,
                    "channel": a.channel,
                    "payload": dumps(dict(a.payload)) if a.payload is not None else None,
                }
        if not fresh:
            return ids
        with self._tx() as tx:
            for aid in tx.existing_ids(ALERTS_HISTORY.name, "id", list(fresh)):
                fresh.pop(aid, None)
            if fresh:
                tx.insert(ALERTS_HISTORY, list(fresh.values()))
        return ids

    # -- deletes (right to be forgotten) ---------------------------------------------------

    def delete_session(self, session_id: str) -> Deletion:
        with self._tx() as tx:
            return self._delete(tx, [session_id], alert_needle=None)

    def delete_participant(self, who: str) -> Deletion:
        """Remove every session of a participant (identity or email, case-insensitive email)."""
        needle = who.strip()
        if not needle:
            return Deletion((), {})
        with self._tx() as tx:
            found = tx.fetch(
                "SELECT session_id FROM sessions WHERE participant_identity = :w "
                "OR LOWER(user_email) = LOWER(:w) "
                "UNION SELECT session_id FROM leads WHERE LOWER(email) = LOWER(:w)",
                {"w": needle},
            )
            ids = sorted({str(r["session_id"]) for r in found})
            return self._delete(tx, ids, alert_needle=needle)

    def _delete(self, tx: Tx, ids: list[str], alert_needle: str | None) -> Deletion:
        counts: dict[str, int] = {}
        present = (
            {
                str(r["session_id"])
                for r in tx.fetch(
                    "SELECT session_id FROM sessions WHERE session_id IN ("
                    + ", ".join("?" for _ in ids)
                    + ")",
                    ids,
                )
            }
            if ids
            else set()
        )
        for name in (*PER_SESSION_TABLES, "analysis_results", "alerts_history"):
            n = tx.delete_sessions(name, ids) if ids else 0
            if name == "alerts_history" and alert_needle:
                # Alerts about a person may name them without a session (digests, hot leads).
                pattern = "%" + _like_escape(alert_needle.lower()) + "%"
                n += tx.exec(
                    "DELETE FROM alerts_history WHERE LOWER(CAST(payload AS TEXT)) LIKE ? "
                    "ESCAPE '\\' OR LOWER(message) LIKE ? ESCAPE '\\'",
                    [pattern, pattern],
                )
            if n:
                counts[name] = n
        return Deletion(tuple(sorted(present)), counts)

    # -- reads ----------------------------------------------------------------------------

    def query(self, name: str, params: Params = ()) -> list[dict[str, Any]]:
        """Run one of the named queries of :data:`callscope.store.sql.QUERIES`."""
        return self.fetch(named(name), params)

    def session_ids(self) -> set[str]:
        return {str(r["session_id"]) for r in self.query("session_ids")}

    def analyzer_versions(self) -> dict[str, Any]:
        """Session id -> ``{module: version}`` it was last analysed with."""
        out: dict[str, Any] = {}
        for row in self.query("analyzer_versions"):
            versions = row["analyzer_versions"]
            out[row["session_id"]] = (
                orjson.loads(versions) if isinstance(versions, str) else versions
            )
        return out

    def count(self, table: str) -> int:
        check_table(table, TABLE_NAMES)
        rows = self.fetch(f"SELECT COUNT(*) AS n FROM {table}")
        return int(rows[0]["n"])

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        found = self.fetch("SELECT * FROM sessions WHERE session_id = ?", [session_id])
        if not found:
            return None
        out = found[0]
        by_session = [session_id]
        out["transcript"] = self.fetch(
            "SELECT * FROM transcripts WHERE session_id = ? ORDER BY turn_index", by_session
        )
        out["tool_calls"] = self.fetch(
            "SELECT * FROM tool_calls WHERE session_id = ? ORDER BY call_index", by_session
        )
        leads = self.fetch("SELECT * FROM leads WHERE session_id = ?", by_session)
        out["lead"] = leads[0] if leads else None
        out["analysis_results"] = self.fetch(
            "SELECT * FROM analysis_results WHERE session_id = ? "
            "ORDER BY module, created_at, analyzer_version",
            by_session,
        )
        return out

    def iter_tables(self) -> Iterator[str]:
        yield from TABLE_NAMES


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
