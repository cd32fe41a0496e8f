"""Pipeline benchmark: analyze throughput, ingest -> worker -> DuckDB end to end, worker RSS.

    python bench/pipeline.py [--n 10000] [--concurrency 2] [--scale-n 3000]

Also 1, 2 and 3 worker processes on the scale-out layout (Redis Streams + PostgreSQL, real
servers started as in tests/fixtures; skipped with a message when they are not installed),
with ratios vs the 1-worker run of the same invocation.

Targets (issue: the spine): analyze >= 1,000 sessions/s; end to end >= 500 sessions/s;
worker RSS < 300 MB. Figures are compared with a baseline measured in the same run (bare
JSON decoding + SessionRecord validation of the same records), since absolute times on a
shared 2-core machine are noisy. Prints a table and writes bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@contextlib.contextmanager
def _services(tmp: Path) -> Iterator[tuple[str, str] | str]:
    """A real redis-server and PostgreSQL (tests/fixtures); the reason when they are missing."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.fixtures.postgres_server import PostgresUnavailable, postgres_server
    from tests.fixtures.redis_server import RedisServer

    tmp.mkdir(parents=True, exist_ok=True)
    try:
        redis = RedisServer(tmp)
        redis.start()
    except RuntimeError as exc:
        yield str(exc)
        return
    try:
        with postgres_server() as pg_url:
            yield redis.url, pg_url
    except PostgresUnavailable as exc:
        yield str(exc)
    finally:
        redis.stop()


def _fresh_database(pg_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        con.execute(f"CREATE DATABASE {name}")
    return pg_url.rsplit("/", 1)[0] + f"/{name}"


def _scale_out(
    payloads: list[bytes], workers: int, urls: tuple[str, str], tmp: Path, batch_size: int
) -> float:
    """Sessions/s of ``workers`` worker processes draining Redis Streams into PostgreSQL.

    The queue is filled first (``callscope ingest``) and the clock runs from the workers'
    start until the last one finds the queue empty, so only the workers are measured.
    """
    import redis as redis_client

    redis_url, pg_url = urls
    redis_client.Redis.from_url(redis_url).flushall()
    src = tmp / f"scale-{workers}"
    src.mkdir()
    (src / "calls.jsonl").write_bytes(b"\n".join(payloads) + b"\n")
    env = {
        **os.environ,
        "CALLSCOPE_DATA_DIR": str(src / "data"),
        "CALLSCOPE_QUEUE": "redis",
        "CALLSCOPE_QUEUE_URL": redis_url,
        "CALLSCOPE_STORE_URL": _fresh_database(pg_url, f"bench_{workers}"),
    }
    cli = [sys.executable, "-m", "callscope"]
    subprocess.run([*cli, "ingest", str(src)], env=env, check=True, capture_output=True)
    # Migrate once up front: the schema is not part of the throughput.
    subprocess.run([*cli, "warehouse", "migrate"], env=env, check=False, capture_output=True)
    args = ["worker", "--once", "--concurrency", "1", "--batch-size", str(batch_size)]
    t = time.perf_counter()
    procs = [
        subprocess.Popen([*cli, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker exited {proc.returncode}: {err.decode()[-1000:]}")
    return _rate(len(payloads), time.perf_counter() - t)


def _scale_runs(payloads: list[bytes], tmp: Path, batch_size: int) -> dict[str, Any]:
    """1, 2 and 3 workers on Redis Streams + PostgreSQL; ratios vs the 1-worker run."""
    if not payloads:
        return {"skipped": "--scale-n 0"}
    with _services(tmp / "services") as found:
        if isinstance(found, str):
            print(f"skipping the Redis+PostgreSQL scale-out runs: {found}")
            return {"skipped": found}
        rates = {w: _scale_out(payloads, w, found, tmp, batch_size) for w in (1, 2, 3)}
    return {
        "n": len(payloads),
        "cores": os.cpu_count(),
        # On a shared machine the ratio says little when other work already fills the cores.
        "load_average_1m_after": os.getloadavg()[0],
        "per_s": {str(w): r for w, r in rates.items()},
        "ratio_vs_1_worker": {str(w): r / rates[1] for w, r in rates.items()},
    }


def _print_scale(scale: dict[str, Any], n: int) -> None:
    if "per_s" not in scale:
        return
    table = Table(title=f"worker scale-out, Redis Streams + PostgreSQL, {scale['n']:,} sessions")
    for col in ("workers", "sessions/s", "x 1 worker"):
        table.add_column(col, justify="right")
    for w, rate in scale["per_s"].items():
        table.add_row(w, f"{rate:,.0f}", f"{scale['ratio_vs_1_worker'][w]:.2f}")
    Console().print(table)


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
    ap.add_argument(
        "--scale-n",
        type=int,
        default=3000,
        help="sessions for the 1/2/3-worker Redis+PostgreSQL runs (0: skip them)",
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

        scale = _scale_runs(payloads[: args.scale_n], Path(tmp), args.batch_size)

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
    _print_scale(scale, args.scale_n)
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
                "redis_postgres_scale_out": scale,
                "targets": {"analyze_per_s": 1000, "end_to_end_per_s": 500, "worker_rss_mb": 300},
            },
            option=orjson.OPT_INDENT_2,
        )
    )


if __name__ == "__main__":
    main()
