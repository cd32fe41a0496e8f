"""A warehouse of known calls (the real analyzers over dev-set and generated records) and a
real dashboard server over it, for the query, access and browser tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from callscope.analyze import analyze_to_contract
from callscope.config import Settings
from callscope.contract.parse import parse_record
from callscope.dashboard import create_dashboard_router
from callscope.generate import generate_records
from callscope.profile import load_profile
from callscope.store import ProcessedSession, Store, open_store

DEV = Path(__file__).resolve().parents[3] / "shared" / "evals" / "dev"
ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PROCESSED_AT = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
PASSWORD = "viewer-pass-123"
PII_PASSWORD = "pii-pass-456"
API_TOKEN = "tok-analyst-789"


@dataclass
class Demo:
    sessions: list[ProcessedSession]
    start: date
    end: date

    def analyses(self) -> list[dict[str, Any]]:
        return [p.analysis for p in self.sessions]

    def by_id(self, session_id: str) -> ProcessedSession:
        return next(p for p in self.sessions if p.session_id == session_id)


def processed(raw: dict[str, Any], when: datetime = PROCESSED_AT) -> ProcessedSession:
    profile = load_profile()
    data = orjson.dumps(raw)
    record = parse_record(data)
    return ProcessedSession(
        record=record, raw=data, analysis=analyze_to_contract(record, profile), processed_at=when
    )


def build_demo() -> Demo:
    raws = [json.loads(p.read_text())["record"] for p in sorted(DEV.glob("dev_*.json"))]
    raws += list(generate_records(160, seed=7, start=ANCHOR, days=21))
    sessions = [processed(r) for r in raws]
    days = [p.record.started_at.astimezone(UTC).date() for p in sessions]
    return Demo(sessions=sessions, start=min(days), end=max(days))


def fill(store: Store, demo: Demo) -> None:
    store.write(demo.sessions)
    store.write_alert(
        "e2e_latency_p95",
        "p95 latency above 1500 ms",
        severity="high",
        fired_at=PROCESSED_AT - timedelta(hours=1),
        alert_id="demo-alert-1",
    )


@pytest.fixture(scope="session")
def demo() -> Demo:
    return build_demo()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("dash") / "warehouse.duckdb"
    store = open_store(f"duckdb:///{path}")
    fill(store, demo)
    yield store
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    settings: Settings
    store: Store


def dashboard_settings(data_dir: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        dashboard_password=PASSWORD,
        dashboard_pii_password=PII_PASSWORD,
        dashboard_tokens=f"analyst:pii:{API_TOKEN},bi:viewer:tok-bi-000",
        dashboard_secret="test-secret-key",
        **extra,
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, demo_store: Store) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("dashdata")
    settings = dashboard_settings(data_dir)
    app = FastAPI()
    app.include_router(
        create_dashboard_router(settings, demo_store, refresh_interval=0.2, poll_interval=0.3)
    )
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("dashboard server did not start")
        time.sleep(0.05)
    yield Server(url=f"http://127.0.0.1:{port}", settings=settings, store=demo_store)
    srv.should_exit = True
    thread.join(timeout=10)
