"""Alert tests: calls made by the generator, bent into incidents, through the real analyzers.

``call()`` takes a generated record and moves it to a chosen start time, agent and shape
(slow, failing, token-heavy, bad connection); ``store_calls()`` runs it through the worker's
path (parse -> analyze -> store.write), so every rule reads what the real analyzers and the
warehouse rows make of it, never a hand-written key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from callscope.analyze import analyze_to_contract
from callscope.contract.parse import parse_record
from callscope.generate import generate_record
from callscope.profile.model import Profile, load_profile
from callscope.store import ProcessedSession, Store, open_store

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday noon
_EPOCH_KEYS = {"created_at", "started_speaking_at", "stopped_speaking_at"}
_ISO_KEYS = {"started_at", "ended_at", "at"}


def _shift(value: Any, delta: float) -> Any:
    """Every timestamp of a record moved by ``delta`` seconds (epoch floats and ISO strings)."""
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        if k in _EPOCH_KEYS and isinstance(v, int | float):
            out[k] = v + delta
        elif k in _ISO_KEYS and isinstance(v, str):
            moved = datetime.fromisoformat(v.replace("Z", "+00:00")) + timedelta(seconds=delta)
            out[k] = moved.isoformat().replace("+00:00", "Z")
        else:
            out[k] = _shift(v, delta)
    return out


def call(
    index: int,
    start: datetime,
    *,
    agent: str = "trial-agent",
    seed: int = 7,
    latency_ms: float | None = None,
    error: bool = False,
    tokens_x: float = 1.0,
    packet_loss: float | None = None,
    jitter: float | None = None,
    tool_error: bool = False,
) -> dict[str, Any]:
    record = generate_record(index, seed=seed)
    began = datetime.fromisoformat(record["started_at"].replace("Z", "+00:00"))
    record = _shift(record, (start - began).total_seconds())
    record["session_id"] = f"{agent}-{seed}-{index}-{int(start.timestamp())}"
    record["agent"] = {"name": agent, "version": "1.0"}
    record["errors"] = []
    record["connection"]["packet_loss_pct"] = 0.3 if packet_loss is None else packet_loss
    record["connection"]["jitter_ms"] = 10.0 if jitter is None else jitter
    for item in record["transcript"]["items"]:
        metrics = item.get("metrics") or {}
        if "e2e_latency" in metrics:
            metrics["e2e_latency"] = (latency_ms or 900.0) / 1000
    if tool_error:
        for tc in record["tool_calls"]:
            if tc["name"] == "unleash_search_knowledge":
                tc["is_error"], tc["output"] = True, "knowledge base timeout"
    if error:
        record["errors"] = [{"at": record["started_at"], "source": "llm", "message": "timeout"}]
    for usage in record["usage"]["model_usage"]:
        if usage["type"] == "llm_usage":
            usage["input_tokens"] = int(usage["input_tokens"] * tokens_x)
            usage["input_cached_tokens"] = int(usage["input_cached_tokens"] * tokens_x)
            usage["output_tokens"] = int(usage["output_tokens"] * tokens_x)
    return record


def store_calls(store: Store, records: list[dict[str, Any]], profile: Profile) -> None:
    batch = []
    for data in records:
        raw = orjson.dumps(data)
        rec = parse_record(raw, "test")
        batch.append(ProcessedSession(rec, raw, analyze_to_contract(rec, profile)))
    store.write(batch)


def steady(
    agent: str, start: datetime, end: datetime, every_s: float, first: int = 0, **shape: Any
) -> list[dict[str, Any]]:
    out, t, i = [], start, first
    while t < end:
        out.append(call(i, t, agent=agent, **shape))
        t += timedelta(seconds=every_s)
        i += 1
    return out


@pytest.fixture
def profile() -> Profile:
    return load_profile()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        yield s
    finally:
        s.close()
