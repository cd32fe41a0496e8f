"""Score the analyzers against a labeled set (``{"record": ..., "expected": {...}}`` per file).

The scoring is the held-out check's (``shared/evals/score.py``): signal micro-F1 over the
single-valued signals (team size and volume compared in their scoring bands) and the
list-valued ones (set overlap), plus accuracy of tier, meeting booked, natural ending,
sentiment, clarification requests, interruptions and failed knowledge-base searches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.contract.errors import RecordError
from callscope.contract.parse import validate_record
from callscope.contract.record import SessionRecord
from callscope.profile.model import Profile


def team_band(n: Any) -> str | None:
    if not _is_num(n):
        return None
    return "1-2" if n <= 2 else "3-4" if n <= 4 else "5-10" if n <= 10 else "11+"


def volume_band(n: Any) -> str | None:
    if not _is_num(n):
        return None
    return "<10" if n < 10 else "10-49" if n < 50 else "50-99" if n < 100 else "100+"


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float)


SINGLE: dict[str, Callable[[Any], Any] | None] = {
    "sales.team_size": team_band,
    "sales.monthly_volume": volume_band,
    "sales.budget_authority": None,
    "sales.timeline": None,
    "sales.use_case": None,
    "sales.industry": None,
    "sales.current_tool": None,
}
MULTI = ["sales.integrations", "sales.competitors", "sales.objections"]
ACCURACY = [
    "lead.tier",
    "tools.meeting_booked",
    "quality.natural_ending",
    "sentiment.overall",
    "quality.clarification_requests",
    "quality.interruptions",
    "tools.kb_failed_searches",
]
GOALS = {"f1": 0.90, "tier": 0.95, "meeting": 1.0, "ending": 0.90, "sentiment": 0.85}
TIERS = ["tier_1", "tier_2", "unqualified"]


class EvalSetError(Exception):
    """A labeled set that cannot be read; ``str()`` is one line naming the file."""


@dataclass(frozen=True)
class Case:
    name: str
    record: SessionRecord
    expected: dict[str, Any]


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Miss:
    session_id: str
    field: str
    want: Any
    got: Any
    quote: str | None = None

    def line(self) -> str:
        text = f"{self.session_id} {self.field}: want {self.want!r} got {self.got!r}"
        return text + (f'  ("{self.quote}")' if self.quote else "")


@dataclass
class Report:
    n: int = 0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    accuracy: dict[str, list[int]] = field(default_factory=dict)  # key -> [correct, total]
    tier_confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # gold -> pred
    misses: list[Miss] = field(default_factory=list)

    @property
    def micro(self) -> FieldScore:
        total = FieldScore()
        for s in self.fields.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def acc(self, key: str) -> float:
        c, t = self.accuracy.get(key, [0, 0])
        return c / t if t else 0.0

    def goals(self) -> dict[str, tuple[float, float]]:
        return {
            "f1": (self.micro.f1, GOALS["f1"]),
            "tier": (self.acc("lead.tier"), GOALS["tier"]),
            "meeting": (self.acc("tools.meeting_booked"), GOALS["meeting"]),
            "ending": (self.acc("quality.natural_ending"), GOALS["ending"]),
            "sentiment": (self.acc("sentiment.overall"), GOALS["sentiment"]),
        }

    def to_dict(self) -> dict[str, Any]:
        micro = self.micro
        return {
            "n": self.n,
            "signal_micro": {
                "precision": round(micro.precision, 4),
                "recall": round(micro.recall, 4),
                "f1": round(micro.f1, 4),
                "tp": micro.tp,
                "fp": micro.fp,
                "fn": micro.fn,
            },
            "fields": {
                k: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                }
                for k, s in sorted(self.fields.items())
            },
            "accuracy": {
                k: {"accuracy": round(self.acc(k), 4), "correct": c, "total": t}
                for k, (c, t) in self.accuracy.items()
            },
            "tier_confusion": self.tier_confusion,
            "misses": [
                {
                    "session_id": m.session_id,
                    "field": m.field,
                    "want": m.want,
                    "got": m.got,
                    "quote": m.quote,
                }
                for m in self.misses
            ],
        }


def get(d: Any, dotted: str) -> Any:
    for k in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


CaseTransform = Callable[[dict[str, Any]], dict[str, Any]]


def load_cases(directory: Path, transform: CaseTransform | None = None) -> list[Case]:
    """Every ``*.json`` case in ``directory`` (sorted); a bad file raises EvalSetError.

    ``transform`` rewrites each raw case before it is validated (e.g. ASR noise)."""
    if not directory.is_dir():
        raise EvalSetError(f"{directory}: not a directory")
    cases: list[Case] = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EvalSetError(f"{path}: not valid JSON: {str(exc).splitlines()[0]}") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("record"), dict)
            or not isinstance(data.get("expected"), dict)
        ):
            raise EvalSetError(f"{path}: a case is an object with 'record' and 'expected'")
        if transform is not None:
            data = transform(data)
        try:
            record = validate_record(data["record"], str(path))
        except RecordError as exc:
            raise EvalSetError(str(exc)) from None
        cases.append(Case(path.stem, record, data["expected"]))
    if not cases:
        raise EvalSetError(f"{directory}: no *.json cases")
    return cases


def _quote(pred: Mapping[str, Any], dotted: str) -> str | None:
    """The caller's words the analyzer based its value on, when it kept evidence."""
    section, _, key = dotted.partition(".")
    evidence = get(pred, f"{section}.evidence") or {}
    if section == "signals":
        evidence = pred.get("signal_evidence") or {}
    if not isinstance(evidence, dict):
        return None
    entries = evidence.get(key) or []
    if not entries and key == "objections":
        entries = [e for k, v in evidence.items() if k.startswith("objection:") for e in v]
    if entries and isinstance(entries[0], dict):
        return str(entries[0].get("quote", ""))[:160] or None
    return None


def _compare(report: Report, sid: str, key: str, gv: Any, pv: Any, p: Mapping[str, Any]) -> None:
    """One single-valued field: a hit, or a false positive and/or a false negative."""
    c = report.fields.setdefault(key, FieldScore())
    if gv is not None and pv == gv:
        c.tp += 1
        return
    if pv is not None:
        c.fp += 1
    if gv is not None:
        c.fn += 1
    if gv != pv:
        report.misses.append(Miss(sid, key, gv, pv, _quote(p, key)))


def _compare_sets(
    report: Report, sid: str, key: str, gold: Any, pred: Any, p: Mapping[str, Any]
) -> None:
    gs, ps = set(gold or []), set(pred or [])
    c = report.fields.setdefault(key, FieldScore())
    c.tp += len(gs & ps)
    c.fp += len(ps - gs)
    c.fn += len(gs - ps)
    if gs != ps:
        report.misses.append(Miss(sid, key, sorted(gs), sorted(ps), _quote(p, key)))


def _accuracy(report: Report, sid: str, g: Mapping[str, Any], p: Mapping[str, Any]) -> None:
    for key in ACCURACY:
        if key not in g:
            continue
        a = report.accuracy.setdefault(key, [0, 0])
        a[1] += 1
        got = get(p, key)
        if got == g[key]:
            a[0] += 1
        else:
            report.misses.append(Miss(sid, key, g[key], got))
        if key == "lead.tier":
            row = report.tier_confusion.setdefault(str(g[key]), {})
            row[str(got)] = row.get(str(got), 0) + 1


Band = Callable[[Any], Any]


def profile_bands(profile: Any) -> dict[str, Band]:
    """``signals.<field>`` -> band of a value, for every number field of ``profile`` with bands."""
    out: dict[str, Band] = {}
    fields = getattr(profile, "fields", None)
    if not isinstance(fields, dict):
        return out
    for name, spec in fields.items():
        bands = getattr(spec, "bands", None) or []
        if bands:
            out[f"signals.{name}"] = _band_fn(
                [(getattr(b, "min", None), getattr(b, "max", None), str(b.label)) for b in bands]
            )
    return out


def _band_fn(bands: list[tuple[float | None, float | None, str]]) -> Band:
    def band(v: Any) -> str | None:
        if not _is_num(v) or isinstance(v, bool):
            return None
        for lo, hi, label in bands:
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                return label
        return None

    return band


def score_signals(
    gold: Mapping[str, Mapping[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    bands: Mapping[str, Band] | None = None,
) -> Report:
    """Any profile's ``signals.<field>`` labels: micro-F1 over every labeled field (lists by
    set overlap, numbers in ``bands``, yes/no and one-of by value), plus the accuracies."""
    bands = bands or {}
    report = Report(n=len(gold))
    for sid, g in gold.items():
        p = pred.get(sid)
        if p is None:
            raise EvalSetError(f"no analysis result for session {sid}")
        for key in sorted(k for k in g if k.startswith("signals.")):
            gv, pv = g[key], get(p, key)
            if isinstance(gv, list) or isinstance(pv, list):
                _compare_sets(report, sid, key, gv, pv, p)
                continue
            band = bands.get(key)
            if band is not None:
                gv, pv = band(gv), band(pv)
            _compare(report, sid, key, gv, pv, p)
        _accuracy(report, sid, g, p)
    return report


def score(gold: Mapping[str, Mapping[str, Any]], pred: Mapping[str, Mapping[str, Any]]) -> Report:
    """Compare predictions with labels, keyed by session id (every gold id must be predicted)."""
    report = Report(n=len(gold))
    for name in list(SINGLE) + MULTI:
        report.fields[name] = FieldScore()
    for sid, g in gold.items():
        p = pred.get(sid)
        if p is None:
            raise EvalSetError(f"no analysis result for session {sid}")
        for key, band in SINGLE.items():
            gv, pv = g.get(key), get(p, key)
            if band is not None:
                gv, pv = band(gv), band(pv)
            _compare(report, sid, key, gv, pv, p)
        for key in MULTI:
            _compare_sets(report, sid, key, g.get(key), get(p, key), p)
        _accuracy(report, sid, g, p)
    return report


def analyze_cases(cases: Iterable[Case], profile: Profile) -> dict[str, dict[str, Any]]:
    from callscope.analyze import analyze_to_contract

    return {c.record.session_id: analyze_to_contract(c.record, profile) for c in cases}


def evaluate(directory: Path, profile: Profile, transform: CaseTransform | None = None) -> Report:
    """Score a set: by ``signals.*`` labels when it has them (any profile), else the default
    profile's ``sales.*`` keys the way the held-out check does."""
    cases = load_cases(directory, transform)
    gold = {c.record.session_id: c.expected for c in cases}
    pred = analyze_cases(cases, profile)
    if any(k.startswith("signals.") for g in gold.values() for k in g):
        return score_signals(gold, pred, profile_bands(profile))
    return score(gold, pred)


def noise_transform(profile: Profile, seed: int = 0) -> CaseTransform:
    """Each case as raw speech-to-text (``callscope.devtools.asr_noise``), seeded."""
    from callscope.analyze.text.vocab import profile_phrases
    from callscope.devtools.asr_noise import noisy_case

    phrases = profile_phrases(profile)
    return lambda case: noisy_case(case, phrases, seed)
