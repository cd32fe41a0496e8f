"""The learned lead scorer as plain numbers: features of an analysis, and applying a model file.

Pure (no store, no scikit-learn at apply time), so the analyzers can call it per call in
microseconds. ``callscope scorer train`` (``outcomes/train.py``) writes the file: a logistic
regression over :data:`FEATURES`, an isotonic calibration table, and the probability cut-offs
that give each tier.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT = "callscope-lead-model/1"
SUB_SCORES = ("company_fit", "engagement", "intent", "urgency", "authority")
FEATURES = (
    *(f"sub_{k}" for k in SUB_SCORES),
    "rule_score",
    "discovery_completion",
    "meeting_booked",
    "sentiment_positive",
    "sentiment_negative",
    "natural_ending",
    "objections",
    "buying_signals",
)


def _get(data: Mapping[str, Any], section: str, key: str) -> Any:
    part = data.get(section)
    return part.get(key) if isinstance(part, Mapping) else None


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def features(out: Mapping[str, Any]) -> list[float]:
    """The model's inputs from an analysis output (or the analyzers' upstream results)."""
    subs = _get(out, "lead", "sub_scores") or {}
    sentiment = _get(out, "sentiment", "overall")
    objections = _get(out, "sales", "objections") or []
    buying = _get(out, "insights", "buying_signals") or []
    return [
        *(_num(subs.get(k)) / 100.0 for k in SUB_SCORES),
        _num(_get(out, "lead", "score")) / 100.0,
        _num(_get(out, "lead", "discovery_completion")),
        float(bool(_get(out, "tools", "meeting_booked"))),
        float(sentiment == "positive"),
        float(sentiment == "negative"),
        float(bool(_get(out, "quality", "natural_ending"))),
        float(min(len(objections), 3)) / 3.0,
        float(min(len(buying), 4)) / 4.0,
    ]


@dataclass(frozen=True)
class LeadModel:
    version: str
    coef: tuple[float, ...]
    intercept: float
    calib_x: tuple[float, ...]
    calib_y: tuple[float, ...]
    tiers: tuple[tuple[str, float], ...]  # (tier id, minimum probability), best first
    below_tiers: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LeadModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"lead model: format is not {FORMAT}")
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError("lead model: feature list does not match this callscope")
        try:
            return cls(
                version=str(data["version"]),
                coef=tuple(float(v) for v in data["coef"]),
                intercept=float(data["intercept"]),
                calib_x=tuple(float(v) for v in data["calibration"]["x"]),
                calib_y=tuple(float(v) for v in data["calibration"]["y"]),
                tiers=tuple((str(t["id"]), float(t["min_probability"])) for t in data["tiers"]),
                below_tiers=str(data["below_tiers"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"lead model: malformed ({exc})") from None

    def raw(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(w * v for w, v in zip(self.coef, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def probability(self, x: Sequence[float]) -> float:
        """Calibrated probability: the isotonic step table, interpolated linearly."""
        p = self.raw(x)
        xs, ys = self.calib_x, self.calib_y
        if not xs:
            return p
        if p <= xs[0]:
            return ys[0]
        if p >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, p)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)

    def tier_for(self, p: float) -> str:
        return next((tid for tid, lo in self.tiers if p >= lo), self.below_tiers)

    def apply(self, out: Mapping[str, Any]) -> dict[str, Any]:
        p = self.probability(features(out))
        return {
            "score_model": round(100.0 * p),
            "tier_model": self.tier_for(p),
            "model_version": self.version,
        }


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> LeadModel:
    return LeadModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def load_lead_model(path: str) -> LeadModel:
    """Load (cached per file version) a model written by ``callscope scorer train``."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime
    except OSError:
        raise ValueError(f"lead model {path}: not found") from None
    return _load(str(p), mtime)
