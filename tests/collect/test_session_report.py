"""LiveKit's SessionReport → SessionRecord v1, and the on_session_end hook."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from livekit.agents.testing import fake_job_context

from callscope.collect import make_on_session_end
from callscope.contract import RecordError, parse_record
from callscope.contract.session_report import (
    record_from_session_report,
    session_report_from_record,
)
from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session
from tests.collect.backends import IngestServer
from tests.collect.conftest import fast_options


async def _report_and_ctx() -> tuple[dict[str, Any], Any]:
    session = new_session()
    with fake_job_context(job_id="job-42") as ctx:
        await session.start(SalesAgent())
        await run_session(session, DEFAULT_SCRIPT)
        report = ctx.make_session_report(session)
    return report.to_dict(), ctx


@pytest.fixture
async def real_report() -> dict[str, Any]:
    report, _ = await _report_and_ctx()
    return json.loads(json.dumps(report))  # as read back from session_report.json


def test_conversion_is_valid_and_lossless(real_report: dict[str, Any]) -> None:
    record = record_from_session_report(dict(real_report))
    parsed = parse_record(json.dumps(record))
    assert parsed.session_id == real_report["room"] or parsed.session_id == "job-42"
    assert record["transcript"] == real_report["chat_history"]
    assert {t.name for t in parsed.tool_calls} == {"unleash_search_knowledge", "book_sales_meeting"}
    booking = next(t for t in parsed.tool_calls if t.name == "book_sales_meeting")
    assert booking.arguments["preferred_time"] == "14:30" and booking.output["success"] is True
    assert record["usage"]["model_usage"] == real_report["usage"]
    assert record["close_reason"] == "user_initiated"
    assert session_report_from_record(record) == real_report  # nothing lost
    # the ingest path accepts the raw report too
    assert parse_record(json.dumps(real_report)).session_id == parsed.session_id


def test_job_id_when_room_is_absent(real_report: dict[str, Any]) -> None:
    report = dict(real_report, room="")
    assert record_from_session_report(report)["session_id"] == "job-42"


def test_errors_counts_without_events() -> None:
    report = {
        "job_id": "j1",
        "room": "r1",
        "chat_history": {"items": []},
        "timestamp": 1.7e9,
        "duration_ms": 60000,
        "errors": {"llm": 2, "stt": 0},
        "usage": None,
        "close_reason": "CR_PARTICIPANT_DISCONNECTED",
        "tags": ["vip"],
    }
    record = record_from_session_report(report)
    parsed = parse_record(json.dumps(record))
    assert parsed.duration == 60.0
    assert [(e.source, e.message) for e in parsed.errors] == [
        ("llm", "2 llm error(s) counted by LiveKit's report")
    ]
    assert record["close_reason"] == "participant_disconnected" and record["tags"] == ["vip"]


def test_report_without_any_id_gets_a_clear_error() -> None:
    bad = {"job_id": "", "room": "", "chat_history": {"items": []}, "timestamp": 1.7e9}
    with pytest.raises(RecordError) as info:
        parse_record(json.dumps(bad), "session_report.json")
    assert "session_id" in str(info.value) and "\n" not in str(info.value)


async def test_on_session_end_hook_ships_the_report(ingest: IngestServer, tmp_path: Path) -> None:
    hook = make_on_session_end(
        ingest.url, agent_version="9.9", options=fast_options(tmp_path / "spool-hook")
    )
    session = new_session()
    with fake_job_context(job_id="job-hook") as ctx:
        await session.start(SalesAgent())
        await run_session(session, DEFAULT_SCRIPT)
        ctx._primary_agent_session = session
        await hook(ctx)
    from callscope.collect.delivery import get_delivery

    delivery = get_delivery(ingest.url, options=fast_options(tmp_path / "spool-hook"))
    assert await asyncio.to_thread(delivery.flush, 10)
    ((_sid, records),) = ingest.received().items()
    assert len(records) == 1
    parsed = parse_record(json.dumps(records[0]))
    assert parsed.agent.version == "9.9" and len(parsed.tool_calls) == 2
    assert records[0]["livekit_report"]["job_id"] == "job-hook"


async def test_hook_never_raises_into_the_job(tmp_path: Path) -> None:
    class BrokenCtx:
        def make_session_report(self) -> Any:
            raise RuntimeError("Cannot prepare report, no AgentSession was found")

    hook = make_on_session_end(f"file://{tmp_path}/out", options=fast_options(tmp_path / "spool"))
    await hook(BrokenCtx())  # logged, not raised
