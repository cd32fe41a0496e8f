"""Pipeline benchmark: analyze throughput, ingest -> worker -> DuckDB end to end, worker RSS.

    python bench/pipeline.py [--n 10000] [--concurrency 2]

Targets (issue: the spine): analyze >= 1,000 sessions/s; end to end >= 500 sessions/s;
worker RSS < 300 MB. Figures are compared with a baseline measured in the same run (bare
JSON decoding + SessionRecord validation of the same records), since absolute times on a
shared 2-core machine are noisy. Prints a table and writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from callscope.analyze import analyze_to_contract
from callscope.contract.parse import parse_record
from callscope.generate import generate_records
from callscope.profile import load_profile

RESULTS = Path(__file__).parent / "results"


def _peak_rss(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """Peak RSS (MB) of the worker process itself and of its largest pool process."""
    import psutil

    main = psutil.Process(proc.pid)
    peak = pool = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, main.memory_info().rss / 2**20)
            for child in main.children():
                pool = max(pool, child.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.05)
    return peak, pool


def _write_profile(source: Path, target: Path, top: int = 40) -> None:
    """The worker's top functions by own time and by cumulative time, as text."""
    import io
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(str(source), stream=buf)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    target.parent.mkdir(exist_ok=True)
    target.write_text(buf.getvalue())


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=250)
    ap.add_argument(
        "--profile",
        metavar="NAME",
        help="cProfile the worker's main process; top functions to bench/results/NAME.txt",
    )
    args = ap.parse_args()
    n = args.n
    profile = load_profile()
    payloads = [orjson.dumps(r) for r in generate_records(n, seed=11)]

    t = time.perf_counter()
    for p in payloads:
        parse_record(p)
    baseline = _rate(n, time.perf_counter() - t)

    t = time.perf_counter()
    for p in payloads:
        analyze_to_contract(parse_record(p), profile)
    analyze_rate = _rate(n, time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "calls"
        src.mkdir()
        (src / "calls.jsonl").write_bytes(b"\n".join(payloads) + b"\n")
        env = {**os.environ, "CALLSCOPE_DATA_DIR": str(Path(tmp) / "data")}
        cli = [sys.executable, "-m", "callscope"]
        t = time.perf_counter()
        subprocess.run([*cli, "ingest", str(src)], env=env, check=True, capture_output=True)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(
            [*cli, "analyze", str(src), "--jobs", str(args.concurrency)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        analyze_cli_s = time.perf_counter() - t
        t = time.perf_counter()
        prof_out = Path(tmp) / "worker.prof"
        runner = [sys.executable, "-m", "cProfile", "-o", str(prof_out), "-m", "callscope"]
        worker = subprocess.Popen(
            [
                *(runner if args.profile else cli),
                "worker",
                "--once",
                "--concurrency",
                str(args.concurrency),
                "--batch-size",
                str(args.batch_size),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rss_mb, pool_rss_mb = _peak_rss(worker)
        worker_s = time.perf_counter() - t
        if worker.returncode != 0:
            raise SystemExit(f"worker exited {worker.returncode}")
        if args.profile:
            _write_profile(prof_out, RESULTS / f"{args.profile}.txt")

    e2e_rate = _rate(n, ingest_s + worker_s)
    rows = [
        ("baseline: parse + validate only", baseline, None, ""),
        ("analyze (all analyzers, 1 process)", analyze_rate, analyze_rate / baseline, ""),
        (
            f"callscope analyze --jobs {args.concurrency} (CLI, incl. start-up)",
            _rate(n, analyze_cli_s),
            _rate(n, analyze_cli_s) / baseline,
            ">= 1,000/s",
        ),
        ("ingest (CLI, SQLite queue)", _rate(n, ingest_s), _rate(n, ingest_s) / baseline, ""),
        (
            f"worker --once -c {args.concurrency} (DuckDB)",
            _rate(n, worker_s),
            _rate(n, worker_s) / baseline,
            "",
        ),
        ("end to end ingest -> worker -> DuckDB", e2e_rate, e2e_rate / baseline, ">= 500/s"),
    ]
    table = Table(title=f"pipeline, {n:,} generated sessions")
    for col in ("stage", "sessions/s", "x baseline", "target"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for name, rate, ratio, target in rows:
        table.add_row(name, f"{rate:,.0f}", "-" if ratio is None else f"{ratio:.2f}", target)
    table.add_row("worker peak RSS (main process)", f"{rss_mb:,.0f} MB", "-", "< 300 MB")
    table.add_row("worker peak RSS (one pool process)", f"{pool_rss_mb:,.0f} MB", "-", "")
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_bytes(
        orjson.dumps(
            {
                "n": n,
                "concurrency": args.concurrency,
                "baseline_parse_per_s": baseline,
                "analyze_per_s": analyze_rate,
                "analyze_cli_jobs_per_s": _rate(n, analyze_cli_s),
                "ingest_per_s": _rate(n, ingest_s),
                "worker_per_s": _rate(n, worker_s),
                "end_to_end_per_s": e2e_rate,
                "worker_peak_rss_mb": rss_mb,
                "worker_pool_process_peak_rss_mb": pool_rss_mb,
                "batch_size": args.batch_size,
                "targets": {"analyze_per_s": 1000, "end_to_end_per_s": 500, "worker_rss_mb": 300},
            },
            option=orjson.OPT_INDENT_2,
        )
    )


if __name__ == "__main__":
    main()
