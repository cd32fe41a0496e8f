"""Ingest app fixtures: the real app on a real SQLite queue in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from callscope.config import Settings
from callscope.generate import generate_records
from callscope.ingest.app import create_app
from callscope.queue.sqlite import SqliteQueue

TOKEN = "s3cret-agents"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    return list(generate_records(n, seed=seed))


def body(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SqliteQueue]:
    q = SqliteQueue(tmp_path / "queue.sqlite3")
    yield q
    q.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        ingest_token=f"agents:{TOKEN},old:previous-token",
        rate_limit_per_minute=60_000,
    )


@pytest.fixture
def client(settings: Settings, queue: SqliteQueue) -> Iterator[TestClient]:
    with TestClient(create_app(settings, queue=queue)) as c:
        yield c
