"""Run one real livekit-agents job the way a worker process does, against LIVEKIT_OBSERVABILITY_URL.

``python -m tests.livekit.agent_job <room> <job_id>``: a real ``JobContext`` (not a fake job,
so LiveKit's observability pipeline is on), a text-only ``AgentSession`` with a scripted LLM
and ``record=True``, then the same shutdown steps as ``job_proc_lazy_main``: close the session,
``_on_session_end`` (LiveKit's ``_upload_session_report``) and ``_on_cleanup`` (flushes the
OTLP traces, logs and metrics). Nothing of callscope runs in this process but the script.
Run in its own process: OpenTelemetry's providers are process-global and set once.
"""

from __future__ import annotations

import asyncio
import sys

from livekit import rtc
from livekit.agents import JobContext, utils
from livekit.agents.ipc.inference_executor import InferenceExecutor
from livekit.agents.job import JobAcceptArguments, JobExecutorType, JobProcess, RunningJobInfo
from livekit.agents.job import _JobContextVar
from livekit.agents.utils import http_context
from livekit.protocol import agent as agent_proto
from livekit.protocol import models

from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session


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


async def run_job(room_name: str, job_id: str) -> None:
    ctx = _job_context(room_name, job_id)
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
    asyncio.run(run_job(room_name, job_id))


if __name__ == "__main__":
    main()
