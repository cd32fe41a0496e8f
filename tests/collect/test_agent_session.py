"""A real livekit-agents AgentSession (text only, scripted LLM, no keys) through attach()."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest
from livekit.rtc._proto import stats_pb2 as pb

from callscope.collect import attach, metrics_collected_deprecated
from callscope.contract import parse_record
from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session
from tests.collect.backends import IngestServer
from tests.collect.conftest import fast_options


async def _run(url: str, spool: Path, session_id: str, **kw: Any) -> Any:
    session = new_session()
    collector = attach(
        session,
        session_id=session_id,
        transport=url,
        options=fast_options(spool),
        agent_name="ava",
        agent_version="2.3.1",
        **kw,
    )
    collector.note_signal("team_size", 12)
    await session.start(SalesAgent())
    await run_session(session, DEFAULT_SCRIPT)
    assert await asyncio.to_thread(collector.flush, 15)
    return collector


async def test_real_session_record_arrives_once_and_complete(
    ingest: IngestServer, tmp_path: Path
) -> None:
    await _run(ingest.url, tmp_path / "spool", "room-abc")
    records = ingest.received()["room-abc"]
    assert len(records) == 1
    record = records[0]
    parsed = parse_record(json.dumps(record))  # valid SessionRecord v1
    assert parsed.session_id == "room-abc" and parsed.agent.version == "2.3.1"

    items = record["transcript"]["items"]
    users = [i["content"][0] for i in items if i.get("type") == "message" and i["role"] == "user"]
    assert users == [turn for turn, _ in DEFAULT_SCRIPT]
    calls = [i for i in items if i["type"] == "function_call"]
    assert [c["name"] for c in calls] == ["unleash_search_knowledge", "book_sales_meeting"]
    assert all("created_at" in i for i in items)  # exclude_timestamp=False

    tools = {t["name"]: t for t in record["tool_calls"]}
    assert tools["unleash_search_knowledge"]["arguments"] == {
        "query": "HubSpot integration",
        "category": "integrations",
    }
    assert tools["unleash_search_knowledge"]["output"]["found"] is True
    booking = tools["book_sales_meeting"]
    assert booking["output"]["success"] is True and booking["is_error"] is False
    assert booking["arguments"]["customer_email"] == "marisol@hillcountryhomes.com"
    assert booking["duration_ms"] is not None and booking["duration_ms"] >= 0
    assert booking["started_at"].endswith("Z")

    usage = record["usage"]["model_usage"]
    assert usage[0]["type"] == "llm_usage" and usage[0]["input_tokens"] > 0
    assert record["discovered_signals"] == {"team_size": 12}
    assert record["close_reason"] == "user_initiated"
    assert record["consent"] == {"recording": True, "analytics": True}
    assert parsed.duration >= 0
    req = ingest.requests[-1]["headers"]
    assert req["content-encoding"] == "gzip"


async def test_consent_false_keeps_transcript_and_arguments_in_process(
    ingest: IngestServer, tmp_path: Path
) -> None:
    await _run(
        ingest.url,
        tmp_path / "spool",
        "room-private",
        consent={"recording": False, "analytics": False},
    )
    record = ingest.received()["room-private"][0]
    blob = json.dumps(record)
    for secret in (
        "marisol@hillcountryhomes.com",
        "hubspot",
        "HubSpot",
        "team of 12",
        "meet.example.com",
    ):
        assert secret not in blob
    assert record["consent"]["analytics"] is False
    assert {t["name"] for t in record["tool_calls"]} == {
        "unleash_search_knowledge",
        "book_sales_meeting",
    }
    assert all(t["arguments"] == {} for t in record["tool_calls"])
    # the skeleton (roles, metrics, timings) stays for the metrics-only pipeline
    roles = [i.get("role") for i in record["transcript"]["items"] if i["type"] == "message"]
    assert roles.count("user") == len(DEFAULT_SCRIPT)


class _Room:
    """Stands in for rtc.Room (no LiveKit server here): real RtcStats protos, real shape."""

    name = "room-net"

    class _P:
        identity = "caller-7"
        name = "Marisol"
        metadata = json.dumps({"email": "marisol@example.com"})
        attributes: ClassVar[dict[str, str]] = {
            "browser": "Chrome 131",
            "os": "macOS 15",
            "location": "AU-NSW",
        }

    remote_participants: ClassVar[dict[str, Any]] = {"caller-7": _P()}

    def isconnected(self) -> bool:
        return True

    async def get_rtc_stats(self) -> Any:
        from livekit.rtc.room import RtcStats

        inbound = pb.RtcStats(
            inbound_rtp=pb.RtcStats.InboundRtp(
                received=pb.ReceivedRtpStreamStats(
                    packets_received=990, packets_lost=10, jitter=0.012
                ),
                inbound=pb.InboundRtpStreamStats(bytes_received=1000),
            )
        )
        transport = pb.RtcStats(
            transport=pb.RtcStats.Transport(
                transport=pb.TransportStats(bytes_received=927803, bytes_sent=776977)
            )
        )
        remote = pb.RtcStats(
            remote_inbound_rtp=pb.RtcStats.RemoteInboundRtp(
                remote_inbound=pb.RemoteInboundRtpStreamStats(round_trip_time=0.08)
            )
        )
        return RtcStats(publisher_stats=[remote], subscriber_stats=[inbound, transport])


async def test_connection_stats_and_participant_from_room(
    ingest: IngestServer, tmp_path: Path
) -> None:
    await _run(ingest.url, tmp_path / "spool", "room-net", room=_Room())
    record = ingest.received()["room-net"][0]
    conn = record["connection"]
    assert conn["bandwidth_in_bytes"] == 927803 and conn["bandwidth_out_bytes"] == 776977
    assert conn["packet_loss_pct"] == pytest.approx(1.0)
    assert conn["jitter_ms"] == pytest.approx(12.0)
    assert conn["rtt_ms"] == pytest.approx(80.0)
    assert conn["device"] == {"browser": "Chrome 131", "os": "macOS 15", "location": "AU-NSW"}
    assert record["participant"]["identity"] == "caller-7"
    assert record["participant"]["email"] == "marisol@example.com"
    parse_record(json.dumps(record))


async def test_metrics_collected_not_subscribed_where_deprecated(
    ingest: IngestServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert metrics_collected_deprecated()  # livekit-agents 1.8.9
    with caplog.at_level(logging.WARNING):
        await _run(ingest.url, tmp_path / "spool", "room-dep")
    assert "metrics_collected is deprecated" not in caplog.text
    assert ingest.received()["room-dep"][0]["metrics"] == []


async def test_file_transport_writes_one_file_per_session(tmp_path: Path) -> None:
    out = tmp_path / "records"
    await _run(f"file://{out}", tmp_path / "spool", "room/with:odd chars")
    files = list(out.glob("*.json"))
    assert len(files) == 1 and not list(out.glob(".*tmp"))
    record = parse_record(files[0].read_bytes(), str(files[0]))
    assert record.session_id == "room/with:odd chars"


def test_gzip_body_is_the_same_record(ingest: IngestServer, tmp_path: Path) -> None:
    from callscope.collect.transports import Envelope, HttpTransport

    body = json.dumps({"session_id": "x", "schema_version": "1"}).encode()
    HttpTransport(ingest.url, token=None).send(Envelope("x", gzip.compress(body)))
    assert ingest.received()["x"][0]["session_id"] == "x"
