"""One evaluation pass of the windowed rules, and the state that makes alerts fire once.

Per dedup key (``rule:subject``) a row of ``alert_state`` is ``firing``, ``suppressed`` or
``resolved``. :func:`decide` is the whole policy:

* true and not open: **fire** (one ``alerts_history`` row, routed by the sinks) — unless the
  key last fired less than ``cooldown_minutes`` ago, then **suppress** (kept quiet; if it is
  still true when the cooldown ends it fires then);
* true and firing: **hold** (nothing is re-sent while it stays true);
* false and firing: **resolve** (a resolve row: PagerDuty closes the incident, Slack says so);
* false and suppressed: **clear** silently (nothing was sent, nothing to take back).

History rows carry deterministic ids (``key#incident`` and ``key#incident:resolved``), so a
pass that dies between writing history and state repeats as a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from callscope.alerts import queries
from callscope.alerts.windowed import WINDOWED, Context, Finding, rule_config
from callscope.profile.model import Profile
from callscope.queue.base import Queue
from callscope.store.base import AlertRecord, Store

log = structlog.get_logger("callscope.alerts")


class Action(StrEnum):
    FIRE = "fire"
    HOLD = "hold"
    SUPPRESS = "suppress"
    RESOLVE = "resolve"
    CLEAR = "clear"
    NONE = "none"


def decide(
    status: str | None,
    last_fired_at: datetime | None,
    active: bool,
    now: datetime,
    cooldown: timedelta,
) -> Action:
    """The transition of one key given whether its rule holds now."""
    cooling = last_fired_at is not None and now - last_fired_at < cooldown
    if status == "firing":
        return Action.HOLD if active else Action.RESOLVE
    if status == "suppressed":
        if not active:
            return Action.CLEAR
        return Action.HOLD if cooling else Action.FIRE
    if not active:
        return Action.NONE
    return Action.SUPPRESS if cooling else Action.FIRE


@dataclass
class PassResult:
    at: datetime
    fired: list[str] = field(default_factory=list)  # dedup keys
    resolved: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # rule -> why it was not evaluated

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "fired": self.fired,
            "resolved": self.resolved,
            "held": self.held,
            "suppressed": self.suppressed,
            "errors": self.errors,
        }


def _now() -> datetime:
    return datetime.now(UTC)


class AlertEngine:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        *,
        queue: Queue | None = None,
        queue_name: str = "queue",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.profile = profile
        self.queue = queue
        self.queue_name = queue_name
        self._clock = clock
        queries.ensure_state_table(store)

    def _evaluate(self, ctx: Context, result: PassResult) -> dict[str, list[Finding]]:
        found: dict[str, list[Finding]] = {}
        for rule, evaluator in WINDOWED.items():
            cfg = rule_config(self.profile, rule)
            if not cfg.enabled:
                continue
            try:
                found[rule] = evaluator(rule, cfg, ctx)
            except Exception as exc:  # one rule's outage (queue down) never stops the others
                result.errors[rule] = f"{type(exc).__name__}: {exc}"
                log.warning("alerts.rule_failed", rule=rule, error=result.errors[rule])
        return found

    def check(self, at: datetime | None = None) -> PassResult:
        """Evaluate every enabled windowed rule once and record what changed."""
        now = (at or self._clock()).astimezone(UTC)
        result = PassResult(now)
        states = {s["dedup_key"]: s for s in queries.load_states(self.store)}
        open_subjects: dict[str, set[str]] = {}
        for s in states.values():
            if s["status"] in ("firing", "suppressed"):
                open_subjects.setdefault(s["rule"], set()).add(s["dedup_key"].split(":", 1)[1])
        ctx = Context(self.store, self.profile, now, self.queue, self.queue_name, open_subjects)
        found = self._evaluate(ctx, result)
        history: list[AlertRecord] = []
        changed: list[dict[str, Any]] = []
        for rule, findings in found.items():
            active = {f.key: f for f in findings}
            keys = set(active) | {k for k, s in states.items() if s["rule"] == rule}
            for key in sorted(keys - (ctx.undetermined - set(active))):
                self._step(rule, key, states.get(key), active.get(key), result, history, changed)
        if history:
            self.store.write_alerts(history)
        queries.save_states(self.store, changed)
        log.info(
            "alerts.pass",
            fired=len(result.fired),
            resolved=len(result.resolved),
            errors=len(result.errors),
        )
        return result

    def _step(
        self,
        rule: str,
        key: str,
        state: dict[str, Any] | None,
        finding: Finding | None,
        result: PassResult,
        history: list[AlertRecord],
        changed: list[dict[str, Any]],
    ) -> None:
        cfg = rule_config(self.profile, rule)
        now = result.at
        action = decide(
            state["status"] if state else None,
            state["last_fired_at"] if state else None,
            finding is not None,
            now,
            timedelta(minutes=cfg.cooldown_minutes),
        )
        if action is Action.NONE:
            return
        row: dict[str, Any] = (
            dict(state)
            if state
            else {
                "dedup_key": key,
                "rule": rule,
                "status": "resolved",
                "incident": 0,
                "since": None,
                "last_fired_at": None,
                "last_seen_at": None,
                "resolved_at": None,
            }
        )
        row.update(severity=cfg.severity, channel=cfg.channel)
        if finding is not None:
            row["last_seen_at"] = now
            row["payload"] = finding.payload
            if row["status"] == "resolved":
                row["since"] = now
        if action is Action.FIRE:
            assert finding is not None
            row.update(status="firing", incident=int(row["incident"] or 0) + 1, last_fired_at=now)
            history.append(self._record(row, finding.message, finding.payload, "trigger", now))
            result.fired.append(key)
        elif action is Action.RESOLVE:
            row.update(status="resolved", resolved_at=now)
            message = f"resolved: {key.split(':', 1)[1]} is back within the {rule} threshold"
            history.append(self._record(row, message, row.get("payload") or {}, "resolve", now))
            result.resolved.append(key)
        elif action is Action.SUPPRESS:
            row["status"] = "suppressed"
            result.suppressed.append(key)
        elif action is Action.CLEAR:
            row.update(status="resolved", resolved_at=now)
        else:
            result.held.append(key)
        changed.append(row)

    @staticmethod
    def _record(
        row: dict[str, Any], message: str, payload: dict[str, Any], action: str, now: datetime
    ) -> AlertRecord:
        incident_key = f"{row['dedup_key']}#{row['incident']}"
        return AlertRecord(
            row["rule"],
            message,
            severity=row["severity"],
            channel=row["channel"],
            payload={**payload, "dedup_key": incident_key, "action": action},
            fired_at=now,
            alert_id=incident_key if action == "trigger" else f"{incident_key}:resolved",
        )

    def run_forever(self, stop: threading.Event, interval_s: float | None = None) -> None:
        every = interval_s or self.profile.alerts.interval_s
        while not stop.is_set():
            try:
                self.check()
            except Exception as exc:  # the warehouse blinked: log, try again next tick
                log.error("alerts.pass_failed", error=f"{type(exc).__name__}: {exc}")
            stop.wait(every)


def start_inline(
    store: Store, profile: Profile, queue: Queue | None, stop: threading.Event
) -> threading.Thread:
    """Run the windowed rules in a daemon thread of this process (``serve``, like the worker)."""
    engine = AlertEngine(store, profile, queue=queue)
    thread = threading.Thread(
        target=engine.run_forever, args=(stop,), name="callscope-alerts", daemon=True
    )
    thread.start()
    return thread
