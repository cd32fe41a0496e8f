"""Throughput of all registered analyzers over the dev records, vs parsing alone.

    .venv/bin/python bench/analyze.py [--seconds 5] [--workers 2]

Baseline, measured in the same process: ``SessionRecord.model_validate`` of the same dicts
(every analysis pays it). Prints a table and writes bench/results/analyze.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

# bench/queue.py would shadow the stdlib queue that multiprocessing imports.
sys.path[:] = [
    p
    for p in sys.path
    if pathlib.Path(p or ".").resolve() != pathlib.Path(__file__).parent.resolve()
]

from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

from callscope.analyze import analyze_record, contract_output  # noqa: E402
from callscope.analyze.registry import Registry, registry  # noqa: E402
from callscope.analyze.view import build_view  # noqa: E402
from callscope.contract.record import SessionRecord  # noqa: E402
from callscope.profile import load_profile  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "evals" / "dev"


def load_records(source: str = "dev") -> list[dict[str, Any]]:
    if source == "generated":
        from callscope.generate import generate_records

        return list(generate_records(2000, seed=1))
    cases = sorted(DEV.glob("dev_*.json"))
    if not cases:
        raise SystemExit(f"no dev records under {DEV}")
    records = [json.loads(case.read_text())["record"] for case in cases]
    # Distinct session ids and a varied word so per-text caches cannot hide the work.
    out = []
    for n in range(8):
        for rec in records:
            copy = json.loads(json.dumps(rec))
            copy["session_id"] = f"{rec['session_id']}-{n}"
            for item in copy["transcript"]["items"]:
                if item.get("role") == "user" and item.get("content"):
                    item["content"] = [f"{item['content'][0]} ({n})"]
            out.append(copy)
    return out


def module_costs(records: list[dict[str, Any]], profile: Any) -> tuple[dict[str, float], float]:
    """CPU ms per session of each analyzer alone: records parsed and viewed once, upstream
    results precomputed, best of three passes (CPU time, so other load on the box counts
    less)."""
    views = [build_view(SessionRecord.model_validate(r)) for r in records]
    analyzers = _REGISTRY.ordered()
    upstream: list[dict[str, Any]] = []
    for view in views:
        up: dict[str, Any] = {}
        for a in analyzers:
            up[a.name] = a.fn(view, profile, up)
        upstream.append(up)
    costs: dict[str, float] = {}
    for a in analyzers:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            for view, up in zip(views, upstream, strict=True):
                a.fn(view, profile, up)
            best = min(best, time.process_time() - start)
        costs[a.name] = round(best / len(views) * 1000, 4)
    return costs, sum(len(v.turns) for v in views) / len(views)


def _timed(fn: Any, items: list[Any], seconds: float) -> tuple[int, float]:
    done, start = 0, time.perf_counter()
    while True:
        for item in items:
            fn(item)
        done += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done, elapsed


_REGISTRY: Registry = registry


def _select(names: str) -> None:
    # A subset keeps the registry's order; used to time one area's analyzers apart.
    global _REGISTRY
    if names:
        wanted = set(names.split(","))
        _REGISTRY = Registry()
        for a in registry.ordered():
            if a.name in wanted:
                _REGISTRY.add(a)


def _analyze(raw: dict[str, Any]) -> None:
    rec = SessionRecord.model_validate(raw)
    contract_output(analyze_record(rec, load_profile(), _REGISTRY))


def _worker(args: tuple[list[dict[str, Any]], float, str]) -> tuple[int, float]:
    items, seconds, names = args
    _select(names)
    return _timed(_analyze, items, seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--modules", default="", help="comma-separated subset (default: all)")
    ap.add_argument(
        "--source",
        choices=("dev", "generated"),
        default="dev",
        help="dev: the labeled dev calls (long, wordy); generated: 2,000 synthetic calls",
    )
    opts = ap.parse_args()
    _select(opts.modules)
    records = load_records(opts.source)
    profile = load_profile()
    _analyze(records[0])  # warm imports and the profile cache

    n_base, t_base = _timed(SessionRecord.model_validate, records, opts.seconds)
    n_all, t_all = _timed(_analyze, records, opts.seconds)

    per_module, avg_turns = module_costs(records, profile)

    with ProcessPoolExecutor(opts.workers) as pool:
        parts = list(pool.map(_worker, [(records, opts.seconds, opts.modules)] * opts.workers))
    n_par = sum(p[0] for p in parts)
    t_par = max(p[1] for p in parts)

    rows = [
        ("baseline: SessionRecord.model_validate", n_base / t_base),
        ("validate + all analyzers, 1 process", n_all / t_all),
        (f"validate + all analyzers, {opts.workers} processes", n_par / t_par),
    ]
    print(f"{'measure':48s} {'sessions/s':>12s} {'vs baseline':>12s}")
    for label, rate in rows:
        print(f"{label:48s} {rate:12.0f} {rate / rows[0][1]:12.3f}")
    print(f"CPU ms per session by module ({avg_turns:.1f} turns per call):", per_module)
    result = {
        "bench": "analyze",
        "records": len(records),
        "seconds": opts.seconds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "analyzers": _REGISTRY.versions(profile),
        "baseline_sessions_per_s": round(rows[0][1], 1),
        "single_process_sessions_per_s": round(rows[1][1], 1),
        "parallel_sessions_per_s": round(rows[2][1], 1),
        "workers": opts.workers,
        "ratio_single_vs_baseline": round(rows[1][1] / rows[0][1], 4),
        "source": opts.source,
        "avg_turns": round(avg_turns, 1),
        "ms_per_session_by_module": per_module,
        "ms_per_session_modules_total": round(sum(per_module.values()), 4),
    }
    suffix = "" if not opts.modules else "_" + opts.modules.replace(",", "_")
    suffix += "" if opts.source == "dev" else f"_{opts.source}"
    out = ROOT / "bench" / "results" / f"analyze{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
