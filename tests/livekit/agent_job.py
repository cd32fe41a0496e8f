"""One real livekit-agents job run the way a worker process runs it (LIVEKIT_OBSERVABILITY_URL).

``python -m tests.livekit.agent_job <room> <job_id> [audio.ogg]``: a real ``JobContext`` (not
a fake job, so LiveKit's observability pipeline is on), a text-only ``AgentSession`` with a
scripted LLM and ``record=True``, then the same shutdown steps as ``job_proc_lazy_main``:
close the session, ``_on_session_end`` (LiveKit's ``_upload_session_report``) and
``_on_cleanup`` (flushes the OTLP traces, logs and metrics). Nothing of callscope runs in
this process but the script.
A text-only session records no audio, so with ``audio.ogg`` the session report is pointed at
that file, as LiveKit's recorder would have done, and LiveKit's uploader sends it.
Run in its own process: OpenTelemetry's providers are process-global and set once.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path
from typing import Any

from livekit.agents import JobContext, utils
from livekit.agents.ipc.inference_executor import InferenceExecutor
from livekit.agents.job import (
    JobAcceptArguments,
    JobExecutorType,
    JobProcess,
    RunningJobInfo,
    _JobContextVar,
)
from livekit.agents.utils import http_context
from livekit.protocol import agent as agent_proto
from livekit.protocol import models

from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session
from livekit import rtc


class _NoInference(InferenceExecutor):
    async def do_inference(self, method: str, data: bytes) -> bytes | None:
        raise RuntimeError("no inference in this test")


def _job_context(room_name: str, job_id: str) -> JobContext:
    room = rtc.Room()
    job = agent_proto.Job(
        id=job_id,
        room=models.Room(name=room_name, sid=utils.shortuuid("RM_")),
        type=agent_proto.JobType.JT_ROOM,
        agent_name="ava",
        enable_recording=True,
    )
    info = RunningJobInfo(
        accept_arguments=JobAcceptArguments(identity="agent-ava", name="", metadata=""),
        job=job,
        url="ws://127.0.0.1:7880",  # self-hosted LiveKit: only LIVEKIT_OBSERVABILITY_URL uploads
        token="",
        worker_id="worker-1",
        fake_job=False,
    )
    proc = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
    ctx = JobContext(
        proc=proc,
        info=info,
        room=room,
        on_connect=lambda: None,
        on_shutdown=lambda _reason: None,
        inference_executor=_NoInference(),
    )
    ctx._connected = True  # no LiveKit server: the session runs text-only, like a fake job
    return ctx


def make_ogg(path: Path, seconds: float = 1.0) -> None:
    """A real Ogg/Opus file (a 440 Hz tone), encoded by PyAV like LiveKit's recorder."""
    import av
    import numpy as np

    rate = 48000
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        n = int(rate * seconds)
        tone = (np.sin(2 * math.pi * 440 * np.arange(n) / rate) * 8000).astype(np.int16)
        for start in range(0, n, 960):
            frame = av.AudioFrame.from_ndarray(
                tone[None, start : start + 960], format="s16", layout="mono"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _with_audio(ctx: JobContext, audio: Path) -> None:
    make_report = ctx.make_session_report

    def report_with_audio(session: Any = None) -> Any:
        report = make_report(session)
        report.audio_recording_path = audio
        report.audio_recording_started_at = report.started_at or time.time()
        return report

    ctx.make_session_report = report_with_audio  # type: ignore[method-assign]


async def run_job(room_name: str, job_id: str, audio: Path | None = None) -> None:
    ctx = _job_context(room_name, job_id)
    if audio is not None:
        _with_audio(ctx, audio)
    ctx._on_setup()
    ctx._start_log_buffering()
    ctx._prepare_telemetry()
    token = _JobContextVar.set(ctx)
    http_context._new_session_ctx()
    try:
        session = new_session()
        ctx.tagger.add("demo-call", metadata={"campaign": "spring"})
        ctx.tagger.success("meeting booked")
        await session.start(SalesAgent(), record=True)
        await run_session(session, DEFAULT_SCRIPT, close=False)
        await session.aclose()
        await ctx._on_session_end()
    finally:
        await ctx._on_cleanup()
        await http_context._close_http_ctx()
        _JobContextVar.reset(token)


def main() -> None:
    room_name, job_id = sys.argv[1], sys.argv[2]
    audio = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    asyncio.run(run_job(room_name, job_id, audio))


if __name__ == "__main__":
    main()
