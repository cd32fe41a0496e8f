# ruff: noqa: E402  (sys.path is fixed before any other import; see below)
"""Collector speed, as ratios against baselines measured in the same process.

1. per-event cost: callscope's handler vs an OpenTelemetry span start+end with a
   BatchSpanProcessor, and vs Whispey's LivekitObserve handlers for the same event;
2. session-end hand-off for a ~60-minute call (~400 chat items): callscope's close handler vs
   the strategy's path (``to_dict`` + ``json.dumps`` + blocking boto3 ``send_message`` to a
   moto SQS server) and vs Whispey's ``export()`` to a local HTTP server;
3. event-loop lag (p99 of a 1 ms ticker) while scripted sessions run: no collector,
   callscope with the backend up and down, Whispey.

Sessions are real livekit-agents AgentSessions driven by the scripted LLM (text only).
Backends (HTTP sink, moto) run in their own processes so their work does not load our loop.

    .venv/bin/python bench/collector.py [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds other benchmarks (e.g. bench/queue.py) that would shadow stdlib modules
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "collector.json"

os.environ.setdefault("WHISPEY_USE_S3", "false")
os.environ.setdefault(
    "WHISPEY_OUTBOX_PATH", str(Path(tempfile.gettempdir()) / f"whispey-outbox-{os.getpid()}.db")
)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

SINK = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"status": "accepted", "success": true}'
        self.send_response(202 if self.path == "/v1/sessions" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
s = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H); s.daemon_threads = True
print("ready", flush=True); s.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(values_ms, 50), 4),
        "p99_ms": round(pct(values_ms, 99), 4),
        "mean_ms": round(statistics.fmean(values_ms), 4),
        "n": len(values_ms),
    }


# -- sessions ----------------------------------------------------------------------------
async def closed_session(turns: int) -> Any:
    from callscope.devtools.simulate import SalesAgent, long_script, new_session, run_session

    script = long_script(turns)
    session = new_session(script)
    await session.start(SalesAgent())
    await run_session(session, script)
    return session


def handlers(session: Any, event: str) -> list[Callable[[Any], Any]]:
    return list(session._events.get(event, {}))


def time_calls(fn: Callable[[], Any], n: int) -> float:
    """Mean ns per call."""
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - t0) / n


# -- 1. per-event ------------------------------------------------------------------------
async def per_event(n: int, sink_url: str, spool: Path) -> dict[str, Any]:
    from livekit.agents.llm import ChatMessage
    from livekit.agents.voice.events import ConversationItemAddedEvent
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from callscope.collect import DeliveryOptions, attach
    from callscope.devtools.simulate import new_session

    ev = ConversationItemAddedEvent(item=ChatMessage(role="user", content=["how much is it?"]))

    session = new_session()
    collector = attach(
        session,
        session_id="bench-events",
        transport=sink_url,
        options=DeliveryOptions(spool_dir=spool),
    )
    ours = handlers(session, "conversation_item_added")

    def call_ours() -> None:
        for h in ours:
            h(ev)
        collector._capture.items.clear() if len(collector._capture.items) > 10_000 else None

    class Discard(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    processor = BatchSpanProcessor(Discard())
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")

    def call_otel() -> None:
        tracer.start_span("conversation_item_added").end()

    results: dict[str, Any] = {}
    for _ in range(2):  # warm-up, then measured
        results["callscope_ns"] = time_calls(call_ours, n)
        results["otel_span_ns"] = time_calls(call_otel, n)
    processor.shutdown()

    try:
        from whispey import LivekitObserve

        wsession = new_session()
        observer = LivekitObserve(
            agent_id="bench",
            apikey="bench-key",
            host_url=f"{sink_url}/dev/send-call-log",
            enable_otel=False,
        )
        observer.start_session(wsession)
        theirs = handlers(wsession, "conversation_item_added")

        def call_whispey() -> None:
            for h in theirs:
                h(ev)

        m = max(200, n // 20)
        results["whispey_ns"] = time_calls(call_whispey, m)
        results["whispey_ns"] = time_calls(call_whispey, m)
    except Exception as exc:  # reported, not hidden
        results["whispey_error"] = f"{type(exc).__name__}: {exc}"
    results["ratio_callscope_vs_otel"] = round(results["callscope_ns"] / results["otel_span_ns"], 4)
    return results


# -- 2. hand-off -------------------------------------------------------------------------
async def handoff(
    turns: int, reps: int, sink_url: str, spool: Path, moto_port: int
) -> dict[str, Any]:
    import boto3

    from callscope.collect import DeliveryOptions, attach
    from callscope.collect.collector import _ManualClose

    session = await closed_session(turns)
    items = len(session.history.items)
    collector = attach(
        session,
        session_id="bench-handoff",
        transport=sink_url,
        options=DeliveryOptions(spool_dir=spool, fsync=False),
    )
    record_bytes = 0
    ours: list[float] = []
    for i in range(reps + 5):
        collector._closed = False
        t0 = time.perf_counter()
        collector._finish(_ManualClose("user_initiated"), time.time())
        dt = (time.perf_counter() - t0) * 1000
        if i >= 5:
            ours.append(dt)
        # measure the hand-off alone: the background work is the lag section's subject
        await asyncio.to_thread(collector.delivery.flush, 30)
    record_bytes = len(json.dumps(session.history.to_dict(exclude_timestamp=False)))

    sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="strategy-bench")["QueueUrl"]
    strategy: list[float] = []
    for i in range(max(10, reps // 4) + 2):
        t0 = time.perf_counter()
        body = json.dumps(
            {
                "session_id": "bench",
                "transcript": session.history.to_dict(exclude_timestamp=False),
                "usage": str(session.usage),
            }
        )
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        dt = (time.perf_counter() - t0) * 1000
        if i >= 2:
            strategy.append(dt)

    out: dict[str, Any] = {
        "chat_items": items,
        "transcript_json_bytes": record_bytes,
        "callscope": summary(ours),
        "strategy_sqs": summary(strategy),
    }
    out["speedup_p99"] = round(out["strategy_sqs"]["p99_ms"] / out["callscope"]["p99_ms"], 1)
    out["speedup_p50"] = round(out["strategy_sqs"]["p50_ms"] / out["callscope"]["p50_ms"], 1)

    try:
        from whispey import LivekitObserve

        from callscope.devtools.simulate import SalesAgent, long_script, new_session, run_session

        exports: list[float] = []
        for _ in range(3):
            script = long_script(turns)
            wsession = new_session(script)
            observer = LivekitObserve(
                agent_id="bench",
                apikey="bench-key",
                host_url=f"{sink_url}/dev/send-call-log",
                enable_otel=False,
            )
            sid = observer.start_session(wsession)
            await wsession.start(SalesAgent())
            await run_session(wsession, script)
            t0 = time.perf_counter()
            await observer.export(sid)
            exports.append((time.perf_counter() - t0) * 1000)
        out["whispey_export"] = summary(exports)
    except Exception as exc:
        out["whispey_error"] = f"{type(exc).__name__}: {exc}"
    return out


# -- 3. loop lag -------------------------------------------------------------------------
async def lag(
    mode: str, sessions: int, sink_url: str, down_url: str, spool: Path
) -> dict[str, Any]:
    from callscope.collect import DeliveryOptions, attach
    from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session

    exports: list[Any] = []

    async def one(i: int) -> None:
        session = new_session()
        observer = sid = None
        if mode == "callscope_up":
            attach(
                session,
                session_id=f"lag-up-{i}",
                transport=sink_url,
                options=DeliveryOptions(spool_dir=spool / "up"),
            )
        elif mode == "callscope_down":
            attach(
                session,
                session_id=f"lag-down-{i}",
                transport=down_url,
                options=DeliveryOptions(spool_dir=spool / "down"),
            )
        elif mode == "whispey":
            from whispey import LivekitObserve

            observer = LivekitObserve(
                agent_id="bench",
                apikey="bench-key",
                host_url=f"{sink_url}/dev/send-call-log",
                enable_otel=False,
            )
            sid = observer.start_session(session)
        await session.start(SalesAgent())
        await run_session(session, DEFAULT_SCRIPT)
        if observer is not None:
            exports.append(await observer.export(sid))

    await one(-1)  # warm-up (first-use imports are not the steady state)
    await asyncio.sleep(0.5)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(max(0.0, (time.perf_counter() - t0) * 1000 - 1.0))

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(one(i) for i in range(sessions)))
    await asyncio.sleep(0.5)  # background threads finish while the ticker runs
    stop.set()
    await task
    return summary(lags)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    sink_port, moto_port = free_port(), free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)], stdout=subprocess.PIPE)
    moto_bin = Path(sys.executable).with_name("moto_server")
    moto = subprocess.Popen(
        [str(moto_bin), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(sink_port)
        wait_port(moto_port)
        sink_url = f"http://127.0.0.1:{sink_port}"
        down_url = f"http://127.0.0.1:{free_port()}"
        with tempfile.TemporaryDirectory() as tmp:
            spool = Path(tmp)
            n = 20_000 if args.quick else 100_000
            res: dict[str, Any] = {"per_event": await per_event(n, sink_url, spool / "ev")}
            res["handoff"] = await handoff(
                200, 100 if args.quick else 300, sink_url, spool / "ho", moto_port
            )
            sessions = 10 if args.quick else 30
            res["loop_lag"] = {}
            for mode in ("none", "callscope_up", "callscope_down", "whispey"):
                try:
                    res["loop_lag"][mode] = await lag(
                        mode, sessions, sink_url, down_url, spool / "lag"
                    )
                except Exception as exc:
                    res["loop_lag"][mode] = {"error": f"{type(exc).__name__}: {exc}"}
            return res
    finally:
        for proc in (sink, moto):
            proc.kill()
            proc.wait()


def report(res: dict[str, Any]) -> dict[str, Any]:
    ev, ho, lg = res["per_event"], res["handoff"], res["loop_lag"]
    base = lg["none"]["p99_ms"]
    added_down = round(lg["callscope_down"]["p99_ms"] - base, 4)
    added_up = round(lg["callscope_up"]["p99_ms"] - base, 4)
    checks = {
        "per_event <= 1x OTel span": ev["ratio_callscope_vs_otel"] <= 1.0,
        "hand-off p99 < 0.5 ms": ho["callscope"]["p99_ms"] < 0.5,
        "hand-off >= 30x faster than strategy path (p99)": ho["speedup_p99"] >= 30,
        "added loop lag p99 < 1 ms, backend down": added_down < 1.0,
    }
    rows = [
        ("per-event cost, callscope", f"{ev['callscope_ns']:.0f} ns"),
        ("per-event cost, OTel span start+end (Batch)", f"{ev['otel_span_ns']:.0f} ns"),
        ("per-event cost, Whispey handlers", f"{ev.get('whispey_ns', float('nan')):.0f} ns"),
        ("ratio callscope / OTel", f"{ev['ratio_callscope_vs_otel']:.3f}x"),
        (
            f"hand-off p50/p99, callscope ({ho['chat_items']} items)",
            f"{ho['callscope']['p50_ms']:.3f} / {ho['callscope']['p99_ms']:.3f} ms",
        ),
        (
            "hand-off p50/p99, to_dict+json+boto3 SQS",
            f"{ho['strategy_sqs']['p50_ms']:.2f} / {ho['strategy_sqs']['p99_ms']:.2f} ms",
        ),
        ("speed-up p50 / p99", f"{ho['speedup_p50']}x / {ho['speedup_p99']}x"),
        (
            "end-of-call export p50, Whispey (awaited on loop)",
            f"{ho.get('whispey_export', {}).get('p50_ms', float('nan')):.2f} ms",
        ),
    ]
    for mode in ("none", "callscope_up", "callscope_down", "whispey"):
        m = lg[mode]
        rows.append(
            (
                f"loop lag p50/p99, {mode}",
                f"{m.get('p50_ms', float('nan')):.3f} / {m.get('p99_ms', float('nan')):.3f} ms"
                if "error" not in m
                else m["error"],
            )
        )
    rows.append(("added loop lag p99, backend up / down", f"{added_up:.3f} / {added_down:.3f} ms"))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  value")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    res["added_loop_lag_p99_ms"] = {"backend_up": added_up, "backend_down": added_down}
    res["checks"] = checks
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    res = asyncio.run(main_async(args))
    res = report(res)
    res["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
