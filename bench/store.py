"""Warehouse write throughput (sessions/s) for DuckDB and PostgreSQL.

    .venv/bin/python bench/store.py [--sessions 2000] [--batch 100] [--pg-url URL]

Sessions are the dev records analysed by the real analyzers (default profile), cloned under
distinct session ids. Baseline, measured in the same process: building the rows alone
(``build_rows``), the Python work every backend pays before its bulk load. Without --pg-url a
throwaway PostgreSQL is started (tests/fixtures/postgres_server.py). Prints a table and writes
bench/results/store.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

ROOT = pathlib.Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the stdlib queue module; the repo root makes tests importable.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from callscope.analyze import analyze_to_contract  # noqa: E402
from callscope.contract.parse import validate_record  # noqa: E402
from callscope.profile import load_profile  # noqa: E402
from callscope.store import ProcessedSession, Store, open_store  # noqa: E402
from callscope.store.rows import build_rows  # noqa: E402

DEV = ROOT.parent / "shared" / "evals" / "dev"


def make_sessions(n: int) -> list[ProcessedSession]:
    profile = load_profile("pandadoc_trial")
    base = []
    for path in sorted(DEV.glob("dev_*.json")):
        raw = path.read_bytes()
        data = json.loads(raw)["record"]
        record = validate_record(data, str(path))
        base.append((data, raw, analyze_to_contract(record, profile)))
    out = []
    for i in range(n):
        data, raw, analysis = base[i % len(base)]
        sid = f"bench-{i:06d}"
        record = validate_record({**data, "session_id": sid}, "bench")
        out.append(ProcessedSession(record, raw, {**analysis, "session_id": sid}))
    return out


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def write_all(store: Store, sessions: Sequence[ProcessedSession], batch: int) -> None:
    for i in range(0, len(sessions), batch):
        store.write(sessions[i : i + batch])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--pg-url", default=os.environ.get("CALLSCOPE_BENCH_PG_URL"))
    args = ap.parse_args()
    sessions = make_sessions(args.sessions)
    rows_per_session = sum(len(v) for v in build_rows(sessions[:24], {}).tables.values()) / 24

    baseline_s = timed(
        lambda: (
            [
                build_rows(sessions[i : i + args.batch], {})
                for i in range(0, len(sessions), args.batch)
            ]
            and None
        )
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        duck = open_store(f"duckdb:///{tmp}/bench.duckdb")
        first = timed(lambda: write_all(duck, sessions, args.batch))
        again = timed(lambda: write_all(duck, sessions, args.batch))  # idempotent rewrite
        assert duck.count("sessions") == len(sessions)
        duck.close()
        results["duckdb"] = {"insert_s": first, "rewrite_s": again}

    server: AbstractContextManager[str]
    if args.pg_url:
        server = nullcontext(args.pg_url)
    else:
        from tests.fixtures.postgres_server import postgres_server

        server = postgres_server()
    with server as url:
        pg = open_store(url)
        first = timed(lambda: write_all(pg, sessions, args.batch))
        again = timed(lambda: write_all(pg, sessions, args.batch))
        assert pg.count("sessions") == len(sessions)
        pg.close()
        results["postgres"] = {"insert_s": first, "rewrite_s": again}

    n = len(sessions)
    base_rate = n / baseline_s
    print(f"{n} sessions, batch {args.batch}, ~{rows_per_session:.0f} rows/session")
    print(f"{'backend':<22}{'sessions/s':>12}{'vs rows-only':>14}")
    print(f"{'rows only (baseline)':<22}{base_rate:>12.0f}{1.0:>14.2f}")
    table = {}
    for backend, r in results.items():
        for phase in ("insert", "rewrite"):
            rate = n / r[f"{phase}_s"]
            table[f"{backend}_{phase}"] = {
                "sessions_per_s": round(rate, 1),
                "ratio_vs_rows_only": round(rate / base_rate, 3),
            }
            print(f"{backend + ' ' + phase:<22}{rate:>12.0f}{rate / base_rate:>14.2f}")
    out = {
        "sessions": n,
        "batch": args.batch,
        "rows_per_session": round(rows_per_session, 1),
        "baseline_rows_only_sessions_per_s": round(base_rate, 1),
        "results": table,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    dest = ROOT / "bench" / "results" / "store.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {dest.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
