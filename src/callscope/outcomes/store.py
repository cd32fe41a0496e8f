"""Reading and writing the ``outcomes`` table, and the views built on it.

Writes go through ``Store.execute`` (portable ``?`` parameters), one upsert per outcome, so a
rejected row never takes the rest of an import down with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from callscope.outcomes.records import Outcome
from callscope.store.base import Store, StoreError

log = structlog.get_logger(__name__)

_UPSERT = """
INSERT INTO outcomes (outcome_id, session_id, email, stage, closed_won, amount, trial_converted,
                      occurred_at, source, imported_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (outcome_id) DO UPDATE SET
  session_id = EXCLUDED.session_id, email = EXCLUDED.email, stage = EXCLUDED.stage,
  closed_won = EXCLUDED.closed_won, amount = EXCLUDED.amount,
  trial_converted = EXCLUDED.trial_converted, occurred_at = EXCLUDED.occurred_at,
  source = EXCLUDED.source, imported_at = EXCLUDED.imported_at
"""


@dataclass
class WriteResult:
    written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (outcome key, reason)


def write_outcomes(store: Store, outcomes: Iterable[Outcome], source: str) -> WriteResult:
    now = datetime.now(UTC)
    result = WriteResult()
    for o in outcomes:
        key = o.key(source)
        params = (
            key,
            o.session_id,
            o.email,
            o.stage,
            o.closed_won,
            o.amount,
            o.trial_converted,
            o.occurred_at,
            source,
            now,
        )
        try:
            store.execute(_UPSERT, params)
            result.written += 1
        except StoreError as exc:
            log.warning("outcome_rejected", outcome_id=key, error=str(exc))
            result.failed.append((key, str(exc)))
    return result


def known_emails(store: Store) -> list[str]:
    """Emails of the callers in the warehouse (what a CRM pull asks about)."""
    rows = store.fetch(
        "SELECT DISTINCT LOWER(user_email) AS email FROM sessions "
        "WHERE user_email IS NOT NULL AND user_email <> '' ORDER BY 1"
    )
    return [str(r["email"]) for r in rows]


@dataclass(frozen=True)
class Labeled:
    """One call joined with its outcome: the analysis output and whether it went well."""

    session_id: str
    started_at: datetime | None
    analysis: dict[str, Any]
    positive: bool
    amount: float | None


_JOINED = """
SELECT s.session_id, s.started_at, s.analysis,
       BOOL_OR(COALESCE(o.closed_won, FALSE) OR COALESCE(o.trial_converted, FALSE)) AS positive,
       MAX(o.amount) AS amount
FROM sessions AS s
JOIN outcomes AS o
  ON o.session_id = s.session_id
  OR (o.session_id IS NULL AND o.email IS NOT NULL AND o.email = LOWER(s.user_email)
      AND (o.occurred_at IS NULL OR o.occurred_at >= s.started_at))
GROUP BY s.session_id, s.started_at, s.analysis
ORDER BY s.started_at, s.session_id
"""


def labeled_calls(store: Store) -> list[Labeled]:
    out = []
    for row in store.fetch(_JOINED):
        analysis = row["analysis"]
        if isinstance(analysis, str):
            analysis = json.loads(analysis)
        if not isinstance(analysis, dict):
            continue
        out.append(
            Labeled(
                str(row["session_id"]),
                row["started_at"],
                analysis,
                bool(row["positive"]),
                float(row["amount"]) if row["amount"] is not None else None,
            )
        )
    return out


def qualification_accuracy(store: Store) -> list[dict[str, Any]]:
    """Rows of ``v_qualification_accuracy``: predicted tier versus outcome, per week."""
    return store.fetch("SELECT * FROM v_qualification_accuracy ORDER BY week")


def count(store: Store) -> int:
    rows: Sequence[dict[str, Any]] = store.fetch("SELECT COUNT(*) AS n FROM outcomes")
    return int(rows[0]["n"]) if rows else 0


def all_calls(store: Store) -> list[Labeled]:
    """Every call in the warehouse with its analysis (``positive`` False: no outcome read)."""
    out = []
    for row in store.fetch(
        "SELECT session_id, started_at, analysis FROM sessions ORDER BY started_at, session_id"
    ):
        analysis = row["analysis"]
        if isinstance(analysis, str):
            analysis = json.loads(analysis)
        if isinstance(analysis, dict):
            out.append(Labeled(str(row["session_id"]), row["started_at"], analysis, False, None))
    return out
