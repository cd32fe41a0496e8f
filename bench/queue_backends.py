"""Queue throughput, SQLite vs Redis Streams, measured side by side in one process.

    .venv/bin/python bench/queue_backends.py [--n 5000] [--batch 500]

Starts a throwaway redis-server on a free loopback port (skipped if none is installed).
Reports messages/s for single enqueue, batch enqueue (``enqueue_many``) and lease+ack, plus
each backend's ratio to SQLite single enqueue measured in the same run. Writes
bench/results/queue.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from callscope.queue import Queue
from callscope.queue.sqlite import SqliteQueue

RESULTS = Path(__file__).resolve().parent / "results" / "queue.json"


def _payload(i: int) -> bytes:
    # Shaped like a small SessionRecord (~1.5 KB), unique per session.
    turns = [
        {"role": "user" if t % 2 else "agent", "text": f"turn {t} of call {i}"} for t in range(24)
    ]
    return orjson.dumps({"schema_version": 1, "session_id": f"bench-{i}", "turns": turns})


@contextmanager
def _redis() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", tmp, "--save", "",
                "--appendonly", "yes"]  # fmt: skip
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            import redis

            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _rate(n: int, fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def measure(make: Callable[[str], Queue], n: int, batch: int) -> dict[str, float]:
    payloads = [_payload(i) for i in range(n)]
    single = make("single")
    r_single = _rate(n, lambda: [single.enqueue(f"s{i}", payloads[i]) for i in range(n)] and None)
    single.close()

    q = make("batch")

    def batched() -> None:
        for lo in range(0, n, batch):
            q.enqueue_many([(f"b{i}", payloads[i]) for i in range(lo, min(n, lo + batch))])

    r_batch = _rate(n, batched)

    def drain() -> None:
        done = 0
        while done < n:
            msgs = q.lease(100, visibility_timeout=300)
            if not msgs:
                raise RuntimeError(f"queue ran dry after {done} of {n}")
            for m in msgs:
                q.ack(m)
            done += len(msgs)

    r_drain = _rate(n, drain)
    q.close()
    return {"enqueue_single": r_single, "enqueue_batch": r_batch, "lease_ack": r_drain}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=500)
    opts = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(
            lambda tag: SqliteQueue(Path(tmp) / f"{tag}.sqlite3"), opts.n, opts.batch
        )
    with _redis() as url:
        if url is not None:
            from callscope.queue.redis_streams import RedisStreamsQueue

            results["redis"] = measure(
                lambda tag: RedisStreamsQueue(url, stream=f"bench-{tag}"), opts.n, opts.batch
            )
    base = results["sqlite"]["enqueue_single"]
    cols = ("enqueue_single", "enqueue_batch", "lease_ack")
    print(f"queue throughput, {opts.n} messages, batch {opts.batch} (messages/s)")
    print(f"{'backend':<8}" + "".join(f"{c:>16}" for c in cols) + f"{'batch/single':>14}")
    for name, row in results.items():
        cells = "".join(f"{row[c]:>16,.0f}" for c in cols)
        print(f"{name:<8}{cells}{row['enqueue_batch'] / row['enqueue_single']:>14.1f}x")
    doc = {
        "n": opts.n,
        "batch": opts.batch,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "unit": "messages/s",
        "results": results,
        "ratio_to_sqlite_single_enqueue": {
            name: {c: row[c] / base for c in cols} for name, row in results.items()
        },
        "meets_ingest_target_2000_per_s": results["sqlite"]["enqueue_batch"] >= 2000,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
