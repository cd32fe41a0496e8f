from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callscope.collect.delivery import Delivery, DeliveryOptions
from callscope.collect.transports import transport_from_url
from tests.collect.backends import (
    FileBackend,
    IngestServer,
    RedisBackend,
    RedisProc,
    SqsBackend,
    free_port,
)


class DictJob:
    """A finished session whose record is already a dict (transport contract tests)."""

    def __init__(self, session_id: str, **extra: Any) -> None:
        self.session_id = session_id
        self.record = {
            "schema_version": "1",
            "session_id": session_id,
            "started_at": "2026-01-01T10:00:00Z",
            "ended_at": "2026-01-01T10:05:00Z",
            "transcript": {"items": []},
            **extra,
        }

    def build(self) -> dict[str, Any]:
        return self.record


def fast_options(spool: Path, **kw: Any) -> DeliveryOptions:
    base: dict[str, Any] = dict(
        spool_dir=spool, backoff_base_s=0.05, backoff_cap_s=0.2, fsync=False, rescan_interval_s=0.5
    )
    base.update(kw)
    return DeliveryOptions(**base)


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)


@pytest.fixture(scope="session")
def collect_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProc]:
    proc = RedisProc(tmp_path_factory.mktemp("redis")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def collect_sqs(aws_env: None) -> Iterator[SqsBackend]:
    backend = SqsBackend(free_port(), "callscope-sessions").start()
    yield backend
    if backend.server is not None:
        backend.server.stop()


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    server = IngestServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["http", "file", "redis", "sqs"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    kind = request.param
    if kind == "http":
        server = IngestServer().start()
        yield server
        server.stop()
    elif kind == "file":
        yield FileBackend(tmp_path / "out")
    elif kind == "redis":
        proc: RedisProc = request.getfixturevalue("collect_redis")
        backend = RedisBackend(proc, f"sessions-{uuid.uuid4().hex[:8]}")
        yield backend
        if proc.proc is None:
            proc.start()
    else:
        sqs: SqsBackend = request.getfixturevalue("collect_sqs")
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{sqs.port}")
        sqs.received()  # start from an empty queue
        sqs._seen.clear()
        yield sqs
        if sqs.server is None:
            sqs.start()


@pytest.fixture
def make_delivery(tmp_path: Path) -> Iterator[Any]:
    made: list[Delivery] = []

    def factory(
        url: str, *, token: str | None = None, spool: Path | None = None, **kw: Any
    ) -> Delivery:
        d = Delivery(
            transport_from_url(url, token=token), fast_options(spool or tmp_path / "spool", **kw)
        )
        made.append(d)
        return d

    yield factory
    for d in made:
        d.shutdown(0.5)


@pytest.fixture
def backend_sqs(collect_sqs: SqsBackend, monkeypatch: pytest.MonkeyPatch) -> SqsBackend:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{collect_sqs.port}")
    collect_sqs.received()
    collect_sqs._seen.clear()
    collect_sqs.attributes.clear()
    return collect_sqs
