"""Windowed operational rules: evaluated over the warehouse (and the queue) on a schedule.

Each rule returns the :class:`Finding` objects that hold *now*, one per subject (an agent, a
tool, a destination, the queue), keyed ``rule:subject``. Whether a finding is sent, kept
quiet by its cooldown, or resolved is the engine's business (:mod:`callscope.alerts.engine`);
rules only say what is true. A rule that cannot be evaluated raises, and the engine then
leaves that rule's open alerts as they are rather than resolve them blind.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from callscope.alerts import queries
from callscope.profile.alerts import (
    AgentDown,
    ApiFailures,
    ConnectionDegraded,
    CostBurn,
    ErrorRate,
    Latency,
    QueueBacklog,
    RuleConfig,
    TokenSpike,
)
from callscope.profile.model import Profile
from callscope.queue.base import Queue
from callscope.store.base import Store


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str
    message: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}"


@dataclass
class Context:
    store: Store
    profile: Profile
    now: datetime
    queue: Queue | None = None
    queue_name: str = "queue"
    # Subjects with an open alert, per rule (set by the engine): a rule may need to keep
    # judging a subject that dropped out of its window (an agent silent for hours).
    open: dict[str, set[str]] = field(default_factory=dict)
    # Keys a rule could not judge this pass (too few calls in the window): an open alert
    # keeps its state rather than resolve on no data ("no data" is not "healthy").
    undetermined: set[str] = field(default_factory=set)

    def too_few(self, rule: str, subject: str) -> None:
        self.undetermined.add(f"{rule}:{subject}")

    @cached_property
    def _hour(self) -> list[dict[str, Any]]:
        longest = max(60.0, *(_window(c) for _, c in self.profile.alerts.rules))
        return queries.window_sessions(self.store, self.now - timedelta(minutes=longest), self.now)

    def sessions(self, minutes: float) -> list[dict[str, Any]]:
        since = self.now - timedelta(minutes=minutes)
        return [r for r in self._hour if r["started_at"] >= since]


def _window(cfg: object) -> float:
    return float(getattr(cfg, "window_minutes", 0.0))


def _by_agent(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r["agent_name"] or "unknown"), []).append(r)
    return out


def _agents(ctx: Context, rule: str, minutes: float) -> dict[str, list[dict[str, Any]]]:
    """The window's calls per agent, plus agents with an open alert and no call now."""
    groups = _by_agent(ctx.sessions(minutes))
    for subject in ctx.open.get(rule, set()):
        groups.setdefault(subject, [])
    return groups


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (PERCENTILE_CONT), ``q`` in 0..1."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# -- rules ---------------------------------------------------------------------------------


def error_rate(rule: str, cfg: ErrorRate, ctx: Context) -> list[Finding]:
    limit = cfg.above_pct if cfg.above_pct is not None else ctx.profile.thresholds.error_rate_pct
    out = []
    for agent, rows in _agents(ctx, rule, cfg.window_minutes).items():
        if len(rows) < cfg.min_calls:
            ctx.too_few(rule, agent)
            continue
        failing = sum(1 for r in rows if (r["error_count"] or 0) > 0)
        pct = 100.0 * failing / len(rows)
        if pct > limit:
            out.append(
                Finding(
                    rule,
                    agent,
                    f"{agent}: {pct:.0f}% of calls had agent errors over "
                    f"{cfg.window_minutes:g} min ({failing} of {len(rows)}; threshold {limit:g}%)",
                    {
                        "agent": agent,
                        "error_rate_pct": round(pct, 1),
                        "calls": len(rows),
                        "failing_calls": failing,
                        "threshold_pct": limit,
                        "window_minutes": cfg.window_minutes,
                    },
                )
            )
    return out


def latency(rule: str, cfg: Latency, ctx: Context) -> list[Finding]:
    limit = cfg.above_ms if cfg.above_ms is not None else ctx.profile.thresholds.e2e_latency_ms
    out = []
    for agent, rows in _agents(ctx, rule, cfg.window_minutes).items():
        values = [
            float(r["e2e_latency_avg_ms"]) for r in rows if r["e2e_latency_avg_ms"] is not None
        ]
        avg = _mean(values)
        if len(values) < cfg.min_calls or avg is None:
            ctx.too_few(rule, agent)
            continue
        if avg <= limit:
            continue
        out.append(
            Finding(
                rule,
                agent,
                f"{agent}: average end-to-end latency {avg:.0f} ms over {cfg.window_minutes:g} "
                f"min ({len(values)} calls; threshold {limit:.0f} ms)",
                {
                    "agent": agent,
                    "avg_latency_ms": round(avg, 1),
                    "calls": len(values),
                    "threshold_ms": limit,
                    "window_minutes": cfg.window_minutes,
                },
            )
        )
    return out


def _tokens(r: dict[str, Any]) -> float:
    return float((r["llm_input_tokens"] or 0) + (r["llm_output_tokens"] or 0))


def token_spike(rule: str, cfg: TokenSpike, ctx: Context) -> list[Finding]:
    window_start = ctx.now - timedelta(minutes=cfg.window_minutes)
    baseline = queries.token_baseline(
        ctx.store, window_start - timedelta(days=cfg.baseline_days), window_start
    )
    out = []
    for agent, rows in _agents(ctx, rule, cfg.window_minutes).items():
        base, base_calls = baseline.get(agent, (0.0, 0))
        avg = _mean([_tokens(r) for r in rows])
        if len(rows) < cfg.min_calls or base_calls < cfg.min_baseline_calls or not base:
            ctx.too_few(rule, agent)
            continue
        if avg is None or avg <= cfg.factor * base:
            continue
        out.append(
            Finding(
                rule,
                agent,
                f"{agent}: {avg:,.0f} LLM tokens per call over {cfg.window_minutes:g} min, "
                f"{avg / base:.1f}x its {cfg.baseline_days:g}-day baseline of {base:,.0f}",
                {
                    "agent": agent,
                    "tokens_per_call": round(avg),
                    "baseline_tokens": round(base),
                    "ratio": round(avg / base, 2),
                    "calls": len(rows),
                    "factor": cfg.factor,
                },
            )
        )
    return out


def cost_burn(rule: str, cfg: CostBurn, ctx: Context) -> list[Finding]:
    budget = cfg.budget_usd_per_hour
    if budget is None:
        return []
    rows = ctx.sessions(cfg.window_minutes)
    spent = sum(float(r["cost_usd"] or 0) for r in rows)
    per_hour = spent * 60.0 / cfg.window_minutes
    if per_hour <= budget:
        return []
    return [
        Finding(
            rule,
            "all",
            f"Spending ${per_hour:,.2f}/hour over the last {cfg.window_minutes:g} min, "
            f"above the ${budget:,.2f}/hour budget ({len(rows)} calls)",
            {
                "usd_per_hour": round(per_hour, 2),
                "budget_usd_per_hour": budget,
                "calls": len(rows),
                "window_minutes": cfg.window_minutes,
            },
        )
    ]


def connection_degraded(rule: str, cfg: ConnectionDegraded, ctx: Context) -> list[Finding]:
    out = []
    for agent, rows in _agents(ctx, rule, cfg.window_minutes).items():
        loss = [float(r["packet_loss_pct"]) for r in rows if r["packet_loss_pct"] is not None]
        jitter = [float(r["jitter_ms"]) for r in rows if r["jitter_ms"] is not None]
        if max(len(loss), len(jitter)) < cfg.min_calls:
            ctx.too_few(rule, agent)
            continue
        loss90, jit90 = percentile(loss, 0.9), percentile(jitter, 0.9)
        bad = []
        if loss90 is not None and loss90 > cfg.packet_loss_p90_pct:
            bad.append(f"packet loss p90 {loss90:.1f}% (> {cfg.packet_loss_p90_pct:g}%)")
        if jit90 is not None and jit90 > cfg.jitter_p90_ms:
            bad.append(f"jitter p90 {jit90:.0f} ms (> {cfg.jitter_p90_ms:g} ms)")
        if bad:
            out.append(
                Finding(
                    rule,
                    agent,
                    f"{agent}: connection quality degraded over {cfg.window_minutes:g} min: "
                    + ", ".join(bad),
                    {
                        "agent": agent,
                        "packet_loss_p90_pct": loss90,
                        "jitter_p90_ms": jit90,
                        "calls": len(rows),
                    },
                )
            )
    return out


def queue_backlog(rule: str, cfg: QueueBacklog, ctx: Context) -> list[Finding]:
    if ctx.queue is None:
        return []
    stats = ctx.queue.stats()
    if stats.ready <= cfg.above:
        return []
    age = stats.oldest_ready_age_s
    return [
        Finding(
            rule,
            ctx.queue_name,
            f"{stats.ready} messages waiting in the queue (threshold {cfg.above})"
            + (f", oldest {age:.0f} s" if age is not None else ""),
            {
                "ready": stats.ready,
                "leased": stats.leased,
                "dead": stats.dead,
                "oldest_ready_age_s": age,
                "threshold": cfg.above,
                "queue": ctx.queue_name,
            },
        )
    ]


def api_failures(rule: str, cfg: ApiFailures, ctx: Context) -> list[Finding]:
    since = ctx.now - timedelta(minutes=cfg.window_minutes)
    groups = [
        ("tool", queries.tool_failures(ctx.store, since, ctx.now)),
        ("destination", queries.destination_failures(ctx.store, since, ctx.now)),
    ]
    out = []
    for kind, rows in groups:
        for r in rows:
            calls, failures = int(r["calls"]), int(r["failures"] or 0)
            pct = 100.0 * failures / calls if calls else 0.0
            if failures < cfg.min_failures or pct < cfg.min_failure_pct:
                continue
            name = str(r["name"])
            out.append(
                Finding(
                    rule,
                    f"{kind}:{name}",
                    f"{kind} {name} failing: {failures} of {calls} calls in "
                    f"{cfg.window_minutes:g} min ({pct:.0f}%)"
                    + (f"; last error: {r['last_error'][:160]}" if r.get("last_error") else ""),
                    {
                        kind: name,
                        "failures": failures,
                        "calls": calls,
                        "failure_pct": round(pct, 1),
                        "window_minutes": cfg.window_minutes,
                    },
                )
            )
    return out


def agent_down(rule: str, cfg: AgentDown, ctx: Context) -> list[Finding]:
    silence = timedelta(minutes=cfg.silence_minutes)
    lookback_start = ctx.now - silence - timedelta(minutes=cfg.lookback_minutes)
    out = []
    active = queries.agent_activity(ctx.store, lookback_start, ctx.now)
    seen = {a.agent for a in active}
    for agent in sorted(ctx.open.get(rule, set()) - seen):
        last = queries.last_session(ctx.store, agent)
        if last is not None and ctx.now - last.last_started_at >= silence:
            out.append(_down(rule, cfg, ctx, last))  # still silent, past the lookback
    for a in active:
        quiet_for = ctx.now - a.last_started_at
        if quiet_for < silence or a.recent_sessions < cfg.min_recent_sessions:
            continue
        in_slot, days = queries.hour_slot_history(ctx.store, a.agent, ctx.now, cfg.history_days)
        per_hour = in_slot / days if days else None
        learned = days >= cfg.min_history_days and per_hour is not None
        if learned and per_hour is not None and per_hour < cfg.quiet_below_per_hour:
            continue  # a quiet hour for this agent: silence is normal
        out.append(_down(rule, cfg, ctx, a, per_hour))
    return out


def _down(
    rule: str,
    cfg: AgentDown,
    ctx: Context,
    a: queries.AgentActivity,
    per_hour: float | None = None,
) -> Finding:
    minutes = (ctx.now - a.last_started_at).total_seconds() / 60
    return Finding(
        rule,
        a.agent,
        f"{a.agent}: no session for {minutes:.0f} min after {a.recent_sessions} in the "
        f"{cfg.lookback_minutes:g} min before",
        {
            "agent": a.agent,
            "silent_minutes": round(minutes, 1),
            "last_session_at": a.last_started_at.isoformat(),
            "recent_sessions": a.recent_sessions,
            "usual_sessions_this_hour": None if per_hour is None else round(per_hour, 2),
        },
    )


Evaluator = Callable[[str, Any, Context], list[Finding]]

WINDOWED: dict[str, Evaluator] = {
    "agent_down": agent_down,
    "error_rate_critical": error_rate,
    "latency_critical": latency,
    "queue_backlog": queue_backlog,
    "api_failures": api_failures,
    "latency_sustained": latency,
    "error_rate_high": error_rate,
    "token_spike": token_spike,
    "cost_burn": cost_burn,
    "connection_degraded": connection_degraded,
}


def rule_config(profile: Profile, rule: str) -> RuleConfig:
    cfg: RuleConfig = getattr(profile.alerts.rules, rule)
    return cfg
