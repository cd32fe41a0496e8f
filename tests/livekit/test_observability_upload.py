"""livekit-agents' own upload (``LIVEKIT_OBSERVABILITY_URL``) into a running ``callscope serve``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from livekit.protocol.metrics import MetricsRecordingHeader
from tests.livekit.agent_job import make_ogg
from tests.livekit.conftest import (
    API_KEY,
    API_SECRET,
    CaptureServer,
    run_agent,
    wait_for_session,
)
from tests.reliability.procs import IngestServer

from callscope.devtools.simulate import DEFAULT_SCRIPT
from livekit import api

pytestmark = pytest.mark.slow

USER_TURNS = [turn for turn, _ in DEFAULT_SCRIPT]


def _complete(view: dict[str, Any]) -> bool:
    lk = view.get("livekit") or {}
    return bool(lk.get("waterfall")) and bool(lk.get("outcome"))


def test_livekit_upload_lands_with_transcript_tools_metrics_waterfall_audio(
    serve: IngestServer, tmp_path: Path
) -> None:
    audio = tmp_path / "call.ogg"
    make_ogg(audio)
    run_agent(serve.url, "room-lk-native", "AJ_native", audio=audio)
    view = wait_for_session(serve.url, "room-lk-native", _complete)

    users = [t["text"] for t in view["turns"] if t["role"] == "user"]
    assert users == USER_TURNS
    assert {c["name"] for c in view["tool_calls"]} == {
        "unleash_search_knowledge",
        "book_sales_meeting",
    }
    agent_turns = [t for t in view["turns"] if t["role"] == "assistant"]
    assert agent_turns and all(t["llm_ttft_ms"] is not None for t in agent_turns)
    session = view["session"]
    assert session["llm_input_tokens"] > 0 and session["meeting_booked"] is True
    assert session["close_reason"] == "user_initiated"

    lk = view["livekit"]
    assert lk["job_id"] == "AJ_native" and lk["room_id"].startswith("RM_")
    assert lk["outcome"] == {"outcome": "success", "reason": "meeting booked"}
    assert len(lk["waterfall"]) == len(agent_turns)
    for turn in lk["waterfall"]:
        assert [s["label"] for s in turn["stages"]] == ["LLM TTFT"]  # text-only: no STT/TTS
        assert "llm_node" in {s["name"] for s in turn["spans"]}
    tool_turns = [t for t in lk["waterfall"] if "function_tool" in {s["name"] for s in t["spans"]}]
    assert len(tool_turns) == 2

    # the audio sits beside the record in the raw store and plays on the session page
    day_dirs = list((serve.data_dir / "raw").glob("*/*/*"))  # type: ignore[attr-defined]
    assert any((d / "room-lk-native.audio.ogg").exists() for d in day_dirs)
    played = httpx.get(serve.url + lk["audio_url"], timeout=10)
    assert played.status_code == 200 and played.headers["content-type"] == "audio/ogg"
    assert played.content == audio.read_bytes()
    page = httpx.get(f"{serve.url}/sessions/room-lk-native", timeout=10).text
    assert 'data-testid="panel-waterfall"' in page and 'data-testid="call-audio"' in page
    assert page.count('data-testid="wf-turn"') == len(agent_turns)


def _form(header: MetricsRecordingHeader) -> dict[str, Any]:
    return {
        "header": ("header.binpb", header.SerializeToString(), "application/protobuf"),
        "chat_history": ("chat_history.json", b'{"items": []}', "application/json"),
    }


def _header(room: str) -> MetricsRecordingHeader:
    summary = orjson.dumps(
        {"room": room, "job_id": "AJ_forged", "room_id": "RM_x", "timestamp": 1.0}
    )
    return MetricsRecordingHeader(
        room_id="RM_x", job_id="AJ_forged", session_summary=summary.decode()
    )


@pytest.mark.parametrize(
    "token",
    [
        api.AccessToken(API_KEY, "not-the-secret-000000000000000000")
        .with_observability_grants(api.ObservabilityGrants(write=True))
        .to_jwt(),
        api.AccessToken(API_KEY, API_SECRET)
        .with_observability_grants(api.ObservabilityGrants(write=True))
        .with_ttl(timedelta(hours=-2))
        .to_jwt(),
        api.AccessToken(API_KEY, API_SECRET).to_jwt(),  # no observability grant
        "",
    ],
    ids=["bad-signature", "expired", "no-grant", "missing"],
)
def test_forged_tokens_are_refused(serve: IngestServer, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = httpx.post(
        f"{serve.url}/observability/recordings/v0",
        files=_form(_header("room-forged")),
        headers=headers,
        timeout=10,
    )
    assert resp.status_code == 401, resp.text
    otlp = httpx.post(
        f"{serve.url}/observability/traces/otlp/v0",
        content=b"",
        headers={**headers, "Content-Type": "application/x-protobuf"},
        timeout=10,
    )
    assert otlp.status_code == 401
    assert httpx.get(f"{serve.url}/api/sessions/room-forged", timeout=5).status_code == 404


def test_agent_with_the_wrong_secret_uploads_nothing(serve: IngestServer) -> None:
    run_agent(serve.url, "room-lk-wrong-key", "AJ_wrong", secret="an-agent-of-another-project-xx")
    assert httpx.get(f"{serve.url}/api/sessions/room-lk-wrong-key", timeout=5).status_code == 404


def _replay(serve: IngestServer, capture: CaptureServer) -> list[httpx.Response]:
    out = []
    for req in capture.requests:
        keep = {"authorization", "content-type", "content-encoding"}
        headers = {k: v for k, v in req.headers.items() if k.lower() in keep}
        out.append(httpx.post(serve.url + req.path, content=req.body, headers=headers, timeout=10))
    return out


def test_a_retried_upload_is_a_duplicate(serve: IngestServer, capture: CaptureServer) -> None:
    run_agent(capture.url, "room-lk-retry", "AJ_retry")
    paths = [r.path for r in capture.requests]
    assert "/observability/recordings/v0" in paths and "/observability/logs/otlp/v0" in paths

    first = _replay(serve, capture)
    assert all(r.status_code in (200, 202) for r in first), [r.text for r in first]
    rec_first = next(
        r
        for r, c in zip(first, capture.requests, strict=True)
        if c.path.endswith("v0") and "recordings" in c.path
    ).json()
    assert rec_first["status"] in ("accepted", "revision")
    view = wait_for_session(serve.url, "room-lk-retry", _complete)
    revision = view["session"]["revision"]

    accepted, duplicates = _counter(serve, "accepted"), _counter(serve, "duplicates")
    again = _replay(serve, capture)  # what LiveKit's retries would send: the same bytes
    recording = next(
        r for r, c in zip(again, capture.requests, strict=True) if "recordings" in c.path
    )
    assert recording.status_code == 200 and recording.json()["status"] == "duplicate"
    assert all(r.status_code in (200, 202) for r in again)
    # nothing new was queued: the recording and every record its logs/metrics rebuilt were
    # duplicates of what the queue already had
    assert _counter(serve, "accepted") == accepted
    assert _counter(serve, "duplicates") > duplicates
    assert wait_for_session(serve.url, "room-lk-retry")["session"]["revision"] == revision


def _counter(serve: IngestServer, name: str) -> float:
    text = httpx.get(f"{serve.url}/metrics", timeout=5).text
    prefix = f'callscope_ingest_{name}_total{{endpoint="livekit_recording"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))
