"""Synthetic outcomes for the demo: drawn from each call's signals, with noise.

A hidden "true" propensity that is *not* the rule score (it weighs engagement, intent and how
the call felt, not just firmographics) plus Gaussian noise decides whether a call's lead
converts, so a learned scorer has something real to find and the rule model is imperfect.
Deterministic for a seed. Only for demos and tests: outcomes carry ``source=synthetic``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from datetime import timedelta

from callscope.outcomes.model import features
from callscope.outcomes.records import Outcome
from callscope.outcomes.store import Labeled

# Weights of the hidden propensity over callscope.outcomes.model.FEATURES (same order).
_TRUE_WEIGHTS = (1.4, 1.0, 2.2, 1.2, 0.8, 0.6, 0.5, 1.1, 0.9, -1.6, 0.4, -0.8, 1.2)
_BIAS = -6.0
_NOISE = 0.8


def _propensity(x: list[float], rng: random.Random) -> float:
    z = _BIAS + sum(w * v for w, v in zip(_TRUE_WEIGHTS, x, strict=True)) + rng.gauss(0, _NOISE)
    return 1.0 / (1.0 + math.exp(-z))


def synthesize(calls: Iterable[Labeled], seed: int = 7, share: float = 0.8) -> list[Outcome]:
    """One outcome for ``share`` of the calls (the rest stay open, as in a real CRM)."""
    out: list[Outcome] = []
    for call in calls:
        # One generator per call: the same call gets the same outcome whatever else is stored.
        rng = random.Random(f"{seed}:{call.session_id}")
        if rng.random() > share:
            continue
        p = _propensity(features(call.analysis), rng)
        won = rng.random() < p
        sales = call.analysis.get("sales") or {}
        raw = sales.get("team_size")
        team = float(raw) if isinstance(raw, int | float) else 3.0
        amount = round(max(300.0, 480.0 * float(team) * rng.uniform(0.6, 1.4)), 2)
        days = rng.randint(3, 45)
        when = call.started_at + timedelta(days=days) if call.started_at else None
        out.append(
            Outcome(
                id=f"syn-{call.session_id}",
                session_id=call.session_id,
                stage="Closed Won" if won else rng.choice(["Closed Lost", "Trial Expired"]),
                closed_won=won,
                amount=amount if won else None,
                trial_converted=won,
                occurred_at=when,
            )
        )
    return out
