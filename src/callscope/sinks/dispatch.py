"""The outbox dispatcher: warehouse rows -> routed, retried, recorded deliveries.

Every pass reads, per sink, the alerts (``alerts_history``) and qualified leads (``sessions``
x ``leads``) its routes select that have no terminal row in ``sink_deliveries`` yet, delivers
them with bounded retries, and records each outcome under the key ``(sink, event_id)``.
So a restart never re-sends a delivered event (at-least-once only for the event in flight
when the process died), and each sink drains in its own thread with a circuit breaker, so a
failing sink never blocks the others. A sink's horizon is fixed when it first runs
(``sink_state.enabled_at`` minus ``backfill_hours``): adding Slack does not replay a year of
alerts, and an outage of any length loses nothing after that point.

Statuses: ``delivered``; ``retry`` (retryable failure, ``next_attempt_at`` set, picked up by a
later pass); ``failed`` (the service rejected it, e.g. 400 or an expired Salesforce session);
``dead`` (``retry.max_deliveries`` attempts used). ``requeue`` turns failed/dead back to new.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from callscope.sinks import erasure
from callscope.sinks.base import (
    ErasingSink,
    ErasureRequest,
    Event,
    LeadEvent,
    Sink,
    SinkError,
    alert_event_from_row,
    lead_event_from_row,
)
from callscope.sinks.config import SEVERITY_RANK, Route, SinksConfig, qualified_tiers
from callscope.store.base import Store

log = structlog.get_logger("callscope.sinks")

DDL = (
    """CREATE TABLE IF NOT EXISTS sink_deliveries (
  sink TEXT NOT NULL,
  event_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  first_attempt_at TIMESTAMPTZ,
  last_attempt_at TIMESTAMPTZ,
  delivered_at TIMESTAMPTZ,
  next_attempt_at TIMESTAMPTZ,
  last_error TEXT,
  PRIMARY KEY (sink, event_id)
)""",
    """CREATE TABLE IF NOT EXISTS sink_state (
  sink TEXT NOT NULL PRIMARY KEY,
  enabled_at TIMESTAMPTZ NOT NULL
)""",
)

_PENDING = "(d.event_id IS NULL OR (d.status = 'retry' AND d.next_attempt_at <= ?))"

ALERTS_SQL = f"""
SELECT a.id, a.fired_at, a.rule, a.severity, a.session_id, a.message, a.channel, a.payload
FROM alerts_history a
LEFT JOIN sink_deliveries d ON d.sink = ? AND d.event_id = 'alert:' || a.id
WHERE a.fired_at >= ? AND {_PENDING} AND ({{filters}})
ORDER BY a.fired_at, a.id
LIMIT ?"""

# The columns a LeadEvent is built from (sessions s JOIN leads l).
LEAD_COLUMNS = """s.session_id, s.revision, l.email, s.user_name,
       COALESCE(l.company, s.company) AS company, l.score, l.tier, l.hot_lead, l.meeting_booked,
       l.team_size, l.monthly_volume, l.integrations, l.current_tool, l.competitors,
       l.objections, l.use_case, l.industry, l.budget_authority, l.timeline, s.summary,
       s.started_at, s.duration_seconds, s.sentiment, s.engagement_score, s.turn_count,
       s.tool_call_count, s.participant_identity, s.analysis, s.ended_at, s.user_email,
       s.llm_input_tokens, s.llm_output_tokens, s.device_location"""

LEADS_SQL = f"""
SELECT {LEAD_COLUMNS}
FROM sessions s
JOIN leads l ON l.session_id = s.session_id
LEFT JOIN sink_deliveries d
  ON d.sink = ? AND d.event_id = 'lead:' || s.session_id || '@' || CAST(s.revision AS TEXT)
WHERE s.processed_at >= ? AND {_PENDING} AND ({{tiers}})
ORDER BY s.processed_at, s.session_id
LIMIT ?"""


@dataclass(frozen=True)
class Delivery:
    sink: str
    event_id: str
    status: str  # delivered | retry | failed | dead
    attempts: int
    error: str | None = None


@dataclass
class PassStats:
    delivered: int = 0
    retry: int = 0
    failed: int = 0
    dead: int = 0
    skipped_sinks: list[str] = field(default_factory=list)  # circuit open this pass
    by_sink: dict[str, dict[str, int]] = field(default_factory=dict)
    erasures: dict[str, int] = field(default_factory=dict)  # by status

    def add(self, d: Delivery) -> None:
        setattr(self, d.status, getattr(self, d.status) + 1)
        counts = self.by_sink.setdefault(d.sink, {})
        counts[d.status] = counts.get(d.status, 0) + 1


def _in(ids: Sequence[str]) -> str:
    return ", ".join("?" * len(ids))


def enrich(store: Store, events: list[LeadEvent]) -> list[LeadEvent]:
    """Lead events with their session's tool calls and transcript (two queries per batch)."""
    ids = [e.session_id for e in events]
    if not ids:
        return events
    calls: dict[str, list[dict[str, Any]]] = {}
    for r in store.fetch(
        "SELECT session_id, call_index, name, kind, ok, started_at, query, category, found, "
        f"total_results, success FROM tool_calls WHERE session_id IN ({_in(ids)}) "
        "ORDER BY session_id, call_index",
        ids,
    ):
        calls.setdefault(str(r["session_id"]), []).append(dict(r))
    turns: dict[str, list[str]] = {}
    for r in store.fetch(
        f"SELECT session_id, role, text FROM transcripts WHERE session_id IN ({_in(ids)}) "
        "ORDER BY session_id, turn_index",
        ids,
    ):
        if r["text"]:
            who = "Caller" if r["role"] == "user" else "Agent"
            turns.setdefault(str(r["session_id"]), []).append(f"{who}: {r['text']}")
    return [
        replace(
            e,
            tool_calls=tuple(calls.get(e.session_id, ())),
            transcript="\n".join(turns[e.session_id]) if e.session_id in turns else None,
        )
        for e in events
    ]


def ensure_tables(store: Store) -> None:
    for statement in (*DDL, erasure.DDL):
        store.execute(statement)


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        config: SinksConfig,
        sinks: Mapping[str, Sink],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _now,
        check_sinks: bool = True,
        qualified: Sequence[str] | None = None,
    ) -> None:
        unknown = sorted({n for r in config.routes for n in r.to} - set(sinks))
        if unknown and check_sinks:
            raise ValueError(f"routes name sinks that were not built: {', '.join(unknown)}")
        self.store = store
        self.config = config
        self.sinks = dict(sinks)
        self._sleep = sleep
        self._clock = clock
        # Tiers a route without ``tiers`` sends: the profile's, never spelled here.
        self.qualified = list(qualified) if qualified is not None else qualified_tiers()
        ensure_tables(store)

    # -- what is due ------------------------------------------------------------------------

    def _routes(self, sink: str, kind: str) -> list[Route]:
        return [r for r in self.config.routes if r.events == kind and sink in r.to]

    def horizon(self, sink: str) -> datetime:
        rows = self.store.fetch("SELECT enabled_at FROM sink_state WHERE sink = ?", [sink])
        if rows:
            enabled: datetime = rows[0]["enabled_at"]
        else:
            enabled = self._clock()
            self.store.execute(
                "INSERT INTO sink_state (sink, enabled_at) VALUES (?, ?) "
                "ON CONFLICT (sink) DO NOTHING",
                [sink, enabled],
            )
        return enabled - timedelta(hours=self.config.backfill_hours)

    def pending(self, sink: str, limit: int | None = None) -> list[Event]:
        """Events routed to ``sink`` that are new or due for another try, oldest first."""
        limit = limit or self.config.batch_size
        since, now = self.horizon(sink), self._clock()
        events: list[Event] = []
        alert_routes = self._routes(sink, "alert")
        if alert_routes:
            clauses, params = [], []
            for route in alert_routes:
                parts = []
                if route.channels is not None:
                    parts.append(f"a.channel IN ({', '.join('?' * len(route.channels))})")
                    params += route.channels
                if route.rules is not None:
                    parts.append(f"a.rule IN ({', '.join('?' * len(route.rules))})")
                    params += route.rules
                allowed = [
                    s for s, r in SEVERITY_RANK.items() if r >= SEVERITY_RANK[route.min_severity]
                ]
                parts.append(f"COALESCE(a.severity, 'info') IN ({', '.join('?' * len(allowed))})")
                params += allowed
                clauses.append("(" + " AND ".join(parts) + ")")
            sql = ALERTS_SQL.replace("{filters}", " OR ".join(clauses))
            rows = self.store.fetch(sql, [sink, since, now, *params, limit])
            events += [alert_event_from_row(r) for r in rows]
        lead_routes = self._routes(sink, "lead")
        if lead_routes:
            tiers = self._lead_tiers(sink, lead_routes)
            where = "TRUE" if tiers is None else f"l.tier IN ({', '.join('?' * len(tiers))})"
            sql = LEADS_SQL.replace("{tiers}", where)
            rows = self.store.fetch(sql, [sink, since, now, *(tiers or []), limit])
            events += enrich(self.store, [lead_event_from_row(r) for r in rows])
        return events

    def _lead_tiers(self, sink: str, routes: list[Route]) -> list[str] | None:
        """The tiers routed to ``sink`` (None: every call).

        A route without ``tiers`` sends qualified leads (the profile's tiers above its
        below-tiers id), except to Amplitude,
        which by the strategy receives every call.
        """
        dest = self.config.destinations.get(sink)
        every_call = dest is not None and dest.type == "amplitude"
        tiers: set[str] = set()
        for r in routes:
            if r.tiers is None and every_call:
                return None
            tiers.update(r.tiers if r.tiers is not None else self.qualified)
        return sorted(tiers)

    # -- delivering -------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        retry = self.config.retry
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SinkError) and exc.retry_after is not None:
            return min(exc.retry_after, retry.max_s)
        return float(min(retry.initial_s * 2 ** (state.attempt_number - 1), retry.max_s))

    def _attempt(self, name: str, fn: Callable[[], None], before: int) -> tuple[str, int, Any]:
        """Run ``fn`` with in-pass retries: (status, attempts in all, error or None)."""
        retry = self.config.retry
        budget = max(1, min(retry.attempts, retry.max_deliveries - before))
        tries = 0

        def attempt() -> None:
            nonlocal tries
            tries += 1
            fn()

        try:
            for call in Retrying(
                stop=stop_after_attempt(budget),
                wait=self._wait,
                retry=retry_if_exception(
                    lambda e: isinstance(e, SinkError) and e.retryable and not e.defer
                ),
                sleep=self._sleep,
                reraise=True,
            ):
                with call:
                    attempt()
            return "delivered", before + tries, None
        except SinkError as exc:
            total = before + tries
            if not exc.retryable:
                return "failed", total, exc
            return ("dead" if total >= retry.max_deliveries else "retry"), total, exc
        except Exception as exc:  # a bug in a backend: recorded, never kills the dispatcher
            return "failed", before + max(tries, 1), RuntimeError(f"{type(exc).__name__}: {exc}")

    def _next_at(self, status: str, attempts: int, error: Any) -> datetime | None:
        if status != "retry":
            return None
        hint = error.retry_after if isinstance(error, SinkError) else None
        wait = hint if hint is not None else self.config.retry.initial_s * 2**attempts
        return self._clock() + timedelta(seconds=min(wait, 3600.0))

    def deliver(self, sink: Sink, event: Event) -> Delivery:
        """Deliver one event with in-pass retries and record the outcome."""
        previous = self.store.fetch(
            "SELECT attempts FROM sink_deliveries WHERE sink = ? AND event_id = ?",
            [sink.name, event.event_id],
        )
        before = int(previous[0]["attempts"]) if previous else 0
        status, attempts, error = self._attempt(sink.name, lambda: sink.deliver(event), before)
        outcome = Delivery(
            sink.name, event.event_id, status, attempts, str(error) if error else None
        )
        self._record(event, outcome, self._next_at(status, attempts, error))
        log.info(
            "sink.delivery",
            sink=sink.name,
            event_id=event.event_id,
            status=outcome.status,
            attempts=outcome.attempts,
            error=outcome.error,
        )
        return outcome

    def erase(self, sink: Sink, request: ErasureRequest, before: int) -> Delivery:
        """One erasure request with the deliveries' retries; identifiers dropped once done."""
        error: str | None
        if not isinstance(sink, ErasingSink):
            status, attempts, error = "unsupported", before, f"{sink.name} cannot delete data"
            next_at = None
        else:
            status, attempts, exc = self._attempt(sink.name, lambda: sink.erase(request), before)
            status = "done" if status == "delivered" else status
            error = str(exc) if exc else None
            next_at = self._next_at(status, attempts, exc)
        erasure.record(self.store, request.id, status, attempts, error, self._clock(), next_at)
        log.info("sink.erasure", sink=sink.name, subject=request.subject, status=status)
        return Delivery(sink.name, request.event_id, status, attempts, error)

    def drain_erasures(self) -> list[Delivery]:
        """Every due erasure of every configured sink (one that is not configured waits)."""
        out: list[Delivery] = []
        for name in erasure.pending_sinks(self.store):
            sink = self.sinks.get(name)
            if sink is None:
                continue
            consecutive = 0
            for request, before in erasure.due(
                self.store, name, self._clock(), self.config.batch_size
            ):
                d = self.erase(sink, request, before)
                out.append(d)
                consecutive = consecutive + 1 if d.status in ("retry", "dead") else 0
                if consecutive >= self.config.retry.circuit_after:
                    break
        return out

    def _record(self, event: Event, d: Delivery, next_at: datetime | None) -> None:
        now = self._clock()
        kind = "alert" if event.event_id.startswith("alert:") else "lead"
        self.store.execute(
            """INSERT INTO sink_deliveries (sink, event_id, kind, status, attempts,
                 first_attempt_at, last_attempt_at, delivered_at, next_attempt_at, last_error)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (sink, event_id) DO UPDATE SET status = excluded.status,
                 attempts = excluded.attempts, last_attempt_at = excluded.last_attempt_at,
                 delivered_at = excluded.delivered_at, next_attempt_at = excluded.next_attempt_at,
                 last_error = excluded.last_error""",
            [
                d.sink,
                d.event_id,
                kind,
                d.status,
                d.attempts,
                now,
                now,
                now if d.status == "delivered" else None,
                next_at,
                d.error,
            ],
        )

    def _drain(self, name: str, events: Sequence[Event]) -> tuple[list[Delivery], bool]:
        sink = self.sinks[name]
        out: list[Delivery] = []
        consecutive = 0
        for event in events:
            d = self.deliver(sink, event)
            out.append(d)
            consecutive = consecutive + 1 if d.status in ("retry", "dead") else 0
            if consecutive >= self.config.retry.circuit_after:
                return out, True  # the service is down: leave the rest for a later pass
        return out, False

    def run_once(self) -> PassStats:
        """One pass over every routed sink, each in its own thread."""
        stats = PassStats()
        for d in self.drain_erasures():
            stats.erasures[d.status] = stats.erasures.get(d.status, 0) + 1
        work = {name: self.pending(name) for name in self._routed()}
        work = {name: events for name, events in work.items() if events}
        if not work:
            return stats
        with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="sink") as pool:
            futures = {
                name: pool.submit(self._drain, name, events) for name, events in work.items()
            }
        for name, future in futures.items():
            deliveries, tripped = future.result()
            for d in deliveries:
                stats.add(d)
            if tripped:
                stats.skipped_sinks.append(name)
        return stats

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the warehouse blinked: log and try again next tick
                log.error("sinks.pass_failed", error=f"{type(exc).__name__}: {exc}")
            stop.wait(self.config.poll_interval_s)

    def _routed(self) -> list[str]:
        return sorted({n for r in self.config.routes for n in r.to})

    # -- operators --------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Per sink: counts by status, events still pending, last attempt and last error, and
        the erasure requests it owes or has done (``erasures``: status -> count)."""
        rows = self.store.fetch(
            "SELECT sink, status, COUNT(*) AS n, MAX(last_attempt_at) AS last_attempt_at "
            "FROM sink_deliveries GROUP BY sink, status"
        )
        erased = erasure.counts(self.store)
        errors = {
            r["sink"]: r["last_error"]
            for r in self.store.fetch(
                "SELECT sink, last_error, last_attempt_at FROM sink_deliveries "
                "WHERE last_error IS NOT NULL ORDER BY last_attempt_at"
            )
        }
        out: dict[str, dict[str, Any]] = {
            name: {
                "sink": name,
                "delivered": 0,
                "retry": 0,
                "failed": 0,
                "dead": 0,
                "last_attempt_at": None,
                "last_error": errors.get(name),
            }
            for name in sorted(set(self._routed()) | {r["sink"] for r in rows} | set(erased))
        }
        for r in rows:
            entry = out[r["sink"]]
            entry[r["status"]] = int(r["n"])
            last = r["last_attempt_at"]
            if last is not None and (
                entry["last_attempt_at"] is None or last > entry["last_attempt_at"]
            ):
                entry["last_attempt_at"] = last
        for name in self._routed():
            out[name]["pending"] = len(self.pending(name, limit=10_000))
        for name, entry in out.items():
            entry["erasures"] = erased.get(name, {})
        return list(out.values())

    def requeue(self, sink: str) -> int:
        """Forget failed and dead deliveries of ``sink`` so the next pass tries them again."""
        return self.store.execute(
            "DELETE FROM sink_deliveries WHERE sink = ? AND status IN ('failed', 'dead')", [sink]
        )
