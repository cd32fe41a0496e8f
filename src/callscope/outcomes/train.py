"""``callscope scorer train``: fit the learned lead scorer on calls with known outcomes.

A logistic regression over :data:`callscope.outcomes.model.FEATURES`, calibrated with an
isotonic map fitted on 5-fold out-of-fold predictions of the training split. It is compared
with the rule model (``lead.score / 100`` read as a probability) on a stratified held-out
split: ROC AUC, Brier score and expected calibration error (10 equal-width bins). The model
file is versioned (``lead_model_<version>.json``) and ``lead_model.json`` points at the latest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import cross_val_predict, train_test_split

from callscope.outcomes.model import FEATURES, FORMAT, LeadModel
from callscope.outcomes.store import Labeled

MIN_CALLS = 40
DIGITS = 8


class TrainError(Exception):
    """Not enough labeled calls (or only one class) to fit and evaluate a model."""


@dataclass(frozen=True)
class Metrics:
    auc: float
    brier: float
    ece: float


@dataclass(frozen=True)
class TrainReport:
    version: str
    model_path: str
    n_train: int
    n_test: int
    positive_rate: float
    learned: Metrics
    rules: Metrics
    trained_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ece(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], bins: int = 10) -> float:
    """Expected calibration error: sample-weighted |mean predicted - observed rate| per bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return round(total, 4)


def _metrics(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> Metrics:
    return Metrics(
        auc=round(float(roc_auc_score(y, p)), 4),
        brier=round(float(brier_score_loss(y, p)), 4),
        ece=ece(y, p),
    )


def _tier_cuts(calls: list[Labeled], p: np.ndarray[Any, Any]) -> tuple[list[dict[str, Any]], str]:
    """Probability cut-offs that give each rule tier its share of the training calls."""
    tiers = [str((c.analysis.get("lead") or {}).get("tier") or "") for c in calls]
    order: list[str] = []
    for c in sorted(calls, key=lambda c: -float((c.analysis.get("lead") or {}).get("score") or 0)):
        t = str((c.analysis.get("lead") or {}).get("tier") or "")
        if t and t not in order:
            order.append(t)
    below = order[-1] if len(order) > 1 else "unqualified"
    cuts: list[dict[str, Any]] = []
    share = 0.0
    ranked = np.sort(p)[::-1]
    for tier in order[:-1]:
        share += tiers.count(tier) / len(tiers)
        k = max(0, min(len(ranked) - 1, round(share * len(ranked)) - 1))
        cuts.append({"id": tier, "min_probability": round(float(ranked[k]), DIGITS)})
    return cuts, below


def train(
    calls: list[Labeled], out_dir: Path, *, test_size: float = 0.3, seed: int = 7
) -> TrainReport:
    from callscope.outcomes.model import features

    if len(calls) < MIN_CALLS:
        raise TrainError(f"need at least {MIN_CALLS} calls with an outcome, have {len(calls)}")
    x = np.array([features(c.analysis) for c in calls])
    y = np.array([int(c.positive) for c in calls])
    if y.min() == y.max():
        raise TrainError("every outcome has the same label: need both won and lost calls")
    rule = np.array([float((c.analysis.get("lead") or {}).get("score") or 0) / 100 for c in calls])
    idx = np.arange(len(calls))
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=y)
    lr = LogisticRegression(C=1.0, max_iter=2000)
    oof = cross_val_predict(lr, x[tr], y[tr], cv=5, method="predict_proba")[:, 1]
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(oof, y[tr])
    lr.fit(x[tr], y[tr])
    cal = iso.predict(lr.predict_proba(x[te])[:, 1])
    cuts, below = _tier_cuts([calls[i] for i in tr], iso.predict(lr.predict_proba(x[tr])[:, 1]))
    body = {
        "format": FORMAT,
        "features": list(FEATURES),
        "coef": [round(float(v), DIGITS) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), DIGITS),
        "calibration": {
            "x": [round(float(v), DIGITS) for v in iso.X_thresholds_],
            "y": [round(float(v), DIGITS) for v in iso.y_thresholds_],
        },
        "tiers": cuts,
        "below_tiers": below,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8]
    now = datetime.now(UTC)
    version = f"{now:%Y%m%d%H%M%S}-{digest}"
    learned, rules = _metrics(y[te], cal), _metrics(y[te], rule[te])
    body |= {"version": version, "trained_at": now.isoformat(), "n_train": len(tr)}
    body["evaluation"] = {"learned": asdict(learned), "rules": asdict(rules), "n_test": len(te)}
    LeadModel.from_dict(body)  # what we write must load
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"lead_model_{version}.json"
    text = json.dumps(body, indent=1) + "\n"
    path.write_text(text, encoding="utf-8")
    (out_dir / "lead_model.json").write_text(text, encoding="utf-8")
    return TrainReport(
        version,
        str(path),
        len(tr),
        len(te),
        round(float(y.mean()), 3),
        learned,
        rules,
        now.isoformat(),
    )
