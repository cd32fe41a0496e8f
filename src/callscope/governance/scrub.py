"""Forgetting one person everywhere a warehouse row, raw record or archived row holds them.

Their own calls go whole. Calls of other people that mention them stay, scrubbed in place:
every text and JSON column of every row of such a call (transcript turns, summaries,
``sessions.analysis``, ``analysis_results.result`` evidence quotes, tool-call arguments,
leads, alerts) is rewritten through :meth:`Subject.scrub`. Raw records are rewritten
redacted under the same key; archived Parquet rows are rewritten in their part.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from callscope.governance.subject import EMAIL_DIGEST, Subject, email_digest
from callscope.store.archive import Archive
from callscope.store.base import Store
from callscope.store.raw import RawStore
from callscope.store.schema import PER_SESSION_TABLES, TABLE_BY_NAME, TABLES

# Key columns never rewritten (they identify the row being scrubbed).
_KEYS = frozenset({"session_id", "id", "turn_index", "call_index"})
SESSION_TABLES = (*PER_SESSION_TABLES, "analysis_results", "alerts_history", "outcomes")


@dataclass
class ScrubReport:
    own_sessions: set[str] = field(default_factory=set)
    mentioning_sessions: set[str] = field(default_factory=set)
    rows_scrubbed: dict[str, int] = field(default_factory=dict)
    rows_deleted: dict[str, int] = field(default_factory=dict)
    raw_deleted: list[str] = field(default_factory=list)
    raw_rewritten: list[str] = field(default_factory=list)
    archive_deleted: int = 0
    archive_scrubbed: int = 0
    archive_files: list[str] = field(default_factory=list)


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def own_sessions(store: Store, subject: Subject) -> set[str]:
    """Sessions whose participant is the person (identity, or email in sessions/leads)."""
    ids = sorted(subject.identities)
    emails = sorted(subject.emails)
    found: set[str] = set()
    if ids or emails:
        where = []
        params: list[Any] = []
        if ids:
            where.append(f"participant_identity IN ({_marks(len(ids))})")
            params += ids
        if emails:
            where.append(f"LOWER(user_email) IN ({_marks(len(emails))})")
            params += emails
        rows = store.fetch(f"SELECT session_id FROM sessions WHERE {' OR '.join(where)}", params)
        found |= {str(r["session_id"]) for r in rows}
        if emails:
            rows = store.fetch(
                f"SELECT session_id FROM leads WHERE LOWER(email) IN ({_marks(len(emails))})",
                emails,
            )
            found |= {str(r["session_id"]) for r in rows}
    return found


def learn_from_warehouse(store: Store, subject: Subject, sessions: set[str]) -> None:
    """Add names, emails and identities the person's own calls state."""
    ids = sorted(sessions)
    if not ids:
        return
    for r in store.fetch(
        "SELECT participant_identity, user_email, user_name FROM sessions "
        f"WHERE session_id IN ({_marks(len(ids))})",
        ids,
    ):
        subject.learn_from_record(
            {
                "participant": {
                    "identity": r["participant_identity"],
                    "email": r["user_email"],
                    "name": r["user_name"],
                }
            }
        )
    for r in store.fetch(
        f"SELECT text FROM transcripts WHERE role = 'user' AND session_id IN ({_marks(len(ids))})",
        ids,
    ):
        if r["text"]:
            subject.learn_from_text(str(r["text"]))


def _record_is_theirs(data: Any, subject: Subject) -> bool:
    participant = data.get("participant") if isinstance(data, dict) else None
    if not isinstance(participant, dict):
        return False
    digest = participant.get(EMAIL_DIGEST)
    if isinstance(digest, str) and digest in {email_digest(e) for e in subject.emails}:
        return True
    email = str(participant.get("email") or "").strip().lower()
    identity = str(participant.get("identity") or "").strip()
    phone_text = json.dumps(participant.get("metadata") or {})
    return (
        (email and email in subject.emails)
        or (identity and identity in subject.identities)
        or (bool(subject.phones) and subject.mentioned_in(phone_text) and not email)
        or (not email and not participant.get("name") and _states_their_email(data, subject))
    ) is True


def _states_their_email(record: dict[str, Any], subject: Subject) -> bool:
    """An anonymous caller (LiveKit's upload names no participant) who gives the person's
    email, or books with it, is taken to be that person."""
    items = (record.get("transcript") or {}).get("items") or []
    said = [i.get("content") for i in items if isinstance(i, dict) and i.get("role") == "user"]
    args = [c.get("arguments") for c in record.get("tool_calls") or [] if isinstance(c, dict)]
    text = json.dumps([said, args], ensure_ascii=False).lower()
    return any(e in text for e in subject.emails)


def scan_raw(raw: RawStore, subject: Subject, own: set[str]) -> set[str]:
    """Own sessions found in the raw store (a call not in the warehouse yet); learns names."""
    found: set[str] = set()
    for obj in raw.iter():
        try:
            data = orjson.loads(obj.data)
        except orjson.JSONDecodeError:
            continue
        record = data.get("record", data) if isinstance(data, dict) else data
        if obj.session_id in own or _record_is_theirs(record, subject):
            found.add(obj.session_id)
            if isinstance(record, dict):
                subject.learn_from_record(record)
    return found


def forget_in_raw(raw: RawStore, subject: Subject, own: set[str], report: ScrubReport) -> None:
    """Delete the person's records; rewrite others' records that mention them, scrubbed."""
    for obj in list(raw.iter()):
        if obj.session_id in own:
            raw.delete(obj.session_id, obj.day)
            report.raw_deleted.append(obj.key)
            continue
        if not subject.mentioned_in(obj.data.decode("utf-8", "replace")):
            continue
        data = orjson.loads(obj.data)
        scrubbed = _scrub_record(data, subject)
        blob = gzip.compress(orjson.dumps(scrubbed, option=orjson.OPT_SORT_KEYS), mtime=0)
        raw.objects.put(obj.key, blob, "application/gzip")
        report.raw_rewritten.append(obj.key)
        report.mentioning_sessions.add(obj.session_id)


def _scrub_record(data: Any, subject: Subject) -> Any:
    if not isinstance(data, dict):
        return subject.scrub(data)
    return {
        k: (v if k in ("session_id", "schema_version") else subject.scrub(v))
        for k, v in data.items()
    }


def delete_own(store: Store, sessions: set[str], report: ScrubReport) -> None:
    ids = sorted(sessions)
    if not ids:
        return
    for table in SESSION_TABLES:
        n = store.execute(f"DELETE FROM {table} WHERE session_id IN ({_marks(len(ids))})", ids)
        if n:
            report.rows_deleted[table] = report.rows_deleted.get(table, 0) + n


def _text_columns(table: str) -> tuple[list[str], list[str]]:
    spec = next(t for t in TABLES if t.name == table)
    text = [c.name for c in spec.columns if c.type in ("text", "json") and c.name not in _KEYS]
    return text, list(spec.primary_key)


def _scrubbed_tables() -> list[str]:
    return [t.name for t in TABLES if t.primary_key and t.name != "metrics"]


def warehouse_mentions(
    store: Store, subject: Subject, report: ScrubReport | None = None
) -> set[str]:
    """Sessions with a row that mentions the person; with ``report``, rows that belong to
    no call (an alert naming them) are scrubbed on the way."""
    mentioning: set[str] = set()
    for table in _scrubbed_tables():
        for row in _rows(store, table):
            if any(subject.mentioned_in(str(v)) for v in row.values() if isinstance(v, str)):
                sid = row.get("session_id")
                if sid:
                    mentioning.add(str(sid))
                elif report is not None:
                    _scrub_row(store, table, row, subject, report)
    return mentioning


def delete_outcomes(store: Store, subject: Subject, report: ScrubReport) -> None:
    """Outcomes imported by email (no session link) of the person."""
    emails = sorted(subject.emails)
    if not emails:
        return
    n = store.execute(f"DELETE FROM outcomes WHERE LOWER(email) IN ({_marks(len(emails))})", emails)
    if n:
        report.rows_deleted["outcomes"] = report.rows_deleted.get("outcomes", 0) + n


def scrub_warehouse(store: Store, subject: Subject, report: ScrubReport) -> None:
    """Rewrite every row of every call that mentions the person (their own are gone)."""
    mentioning = set(report.mentioning_sessions) | warehouse_mentions(store, subject, report)
    report.mentioning_sessions = mentioning
    tables = _scrubbed_tables()
    for table in tables:
        for row in _rows(store, table):
            if str(row.get("session_id")) in mentioning:
                _scrub_row(store, table, row, subject, report)


def _rows(store: Store, table: str) -> Iterable[dict[str, Any]]:
    text, keys = _text_columns(table)
    spec = TABLE_BY_NAME[table]
    # Tables keyed by something else (alert_state) carry no call; their rows are scrubbed alone.
    has_session = any(c.name == "session_id" for c in spec.columns)
    cols = sorted(set(keys) | set(text) | ({"session_id"} if has_session else set()))
    select = ", ".join(f"CAST({c} AS TEXT) AS {c}" if c in text else c for c in cols)
    return store.fetch(f"SELECT {select} FROM {table}") if select else []


def _scrub_row(
    store: Store, table: str, row: dict[str, Any], subject: Subject, report: ScrubReport
) -> None:
    text, keys = _text_columns(table)
    types = {c.name: c.type for t in TABLES if t.name == table for c in t.columns}
    changes: dict[str, Any] = {}
    for col in text:
        old = row.get(col)
        if not isinstance(old, str):
            continue
        if types[col] == "json":
            new_value = json.dumps(subject.scrub(json.loads(old)), ensure_ascii=False)
            if json.loads(new_value) != json.loads(old):
                changes[col] = new_value
        elif (new := subject.scrub_text(old)) != old:
            changes[col] = new
    if not changes:
        return
    sets = ", ".join(
        f"{c} = CAST(? AS JSON)" if types[c] == "json" else f"{c} = ?" for c in changes
    )
    where = " AND ".join(f"{k} = ?" for k in keys)
    store.execute(
        f"UPDATE {table} SET {sets} WHERE {where}",
        [*changes.values(), *(row[k] for k in keys)],
    )
    report.rows_scrubbed[table] = report.rows_scrubbed.get(table, 0) + 1


def forget_in_archive(
    archive: Archive, subject: Subject, own: set[str], report: ScrubReport
) -> None:
    """Drop the person's archived rows; rewrite others' rows that mention them, scrubbed."""
    for key in sorted(k for k in archive.objects.keys("") if k.endswith(".parquet")):
        blob = archive.objects.get(key)
        if blob is None:
            continue
        table = pq.read_table(io.BytesIO(blob))
        rows = table.to_pylist()
        kept: list[dict[str, Any]] = []
        changed = False
        for row in rows:
            if str(row.get("session_id")) in own:
                report.archive_deleted += 1
                changed = True
                continue
            strings = [v for v in row.values() if isinstance(v, str)]
            if any(subject.mentioned_in(v) for v in strings) or (
                str(row.get("session_id")) in report.mentioning_sessions
            ):
                new = {k: _scrub_cell(k, v, subject) for k, v in row.items()}
                if new != row:
                    report.archive_scrubbed += 1
                    changed = True
                row = new
            kept.append(row)
        if not changed:
            continue
        report.archive_files.append(key)
        if kept:
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(kept, schema=table.schema), buf, compression="zstd")
            archive.objects.put(key, buf.getvalue(), "application/vnd.apache.parquet")
        else:
            archive.objects.delete([key])


def _scrub_cell(name: str, value: Any, subject: Subject) -> Any:
    if name in _KEYS or not isinstance(value, str):
        return value
    return subject.scrub_text(value)


def session_hashes(ids: Sequence[str]) -> list[str]:
    import hashlib

    return sorted("sha256:" + hashlib.sha256(s.encode("utf-8")).hexdigest()[:32] for s in ids)
