"""One contract for every transport: delivered once; down → spooled → up → delivered once;
records spooled by a dead process are re-sent by the next one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from callscope.collect.delivery import Delivery
from tests.collect.conftest import DictJob


def test_delivers_each_record_once(backend: Any, make_delivery: Any) -> None:
    d: Delivery = make_delivery(backend.url)
    for i in range(3):
        d.submit(DictJob(f"room-{i}", note=f"n{i}", text="héllo ✓"))
    assert d.flush(15)
    got = backend.received()
    assert sorted(got) == ["room-0", "room-1", "room-2"]
    for i in range(3):
        assert len(got[f"room-{i}"]) == 1
        assert got[f"room-{i}"][0]["note"] == f"n{i}"
        assert got[f"room-{i}"][0]["text"] == "héllo ✓"
    s = d.stats()
    assert (s.delivered, s.rejected, s.dropped, s.spooled_waiting) == (3, 0, 0, 0)


def test_backend_down_spools_then_delivers_exactly_once(
    backend: Any, make_delivery: Any, tmp_path: Path
) -> None:
    d: Delivery = make_delivery(backend.url)
    d.submit(DictJob("before"))
    assert d.flush(15)
    backend.down()
    for i in range(4):
        d.submit(DictJob(f"during-{i}"))
    assert not d.flush(0.6)  # cannot deliver while the backend is down
    deadline = time.monotonic() + 15
    while not d.stats().failing and time.monotonic() < deadline:
        time.sleep(0.05)
    s = d.stats()
    assert s.failing and s.in_memory == 0 and s.delivered == 1
    assert (
        len(list(d.spool.directory.glob("*.rec"))) + len(list(d.spool.directory.glob("*.inflight")))
        == 4
    )
    backend.up()
    assert d.flush(20)
    got = backend.received()
    for sid in ["before", *(f"during-{i}" for i in range(4))]:
        assert len(got.get(sid, [])) == 1, (sid, got.keys())
    assert d.stats().spooled_waiting == 0 and not d.stats().failing
    assert not list(d.spool.directory.glob("*.rec"))


def test_records_spooled_by_a_dead_process_are_resent(
    backend: Any, make_delivery: Any, tmp_path: Path
) -> None:
    spool = tmp_path / "shared-spool"
    backend.down()
    # A separate process spools two records (backend down) and is killed with SIGKILL.
    child = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from tests.collect.conftest import DictJob, fast_options
        from callscope.collect.delivery import Delivery
        from callscope.collect.transports import transport_from_url
        d = Delivery(transport_from_url({backend.url!r}), fast_options({str(spool)!r}))
        d.submit(DictJob("crash-a")); d.submit(DictJob("crash-b"))
        deadline = time.monotonic() + 20
        while d.stats().encoded < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        timeout=60,
        env={**__import__("os").environ},
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    backend.up()
    d: Delivery = make_delivery(backend.url, spool=spool)
    d.start()
    assert d.flush(20)
    got = backend.received()
    assert len(got.get("crash-a", [])) == 1 and len(got.get("crash-b", [])) == 1
