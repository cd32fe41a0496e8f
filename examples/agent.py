"""A complete LiveKit voice agent for the default profile (PandaDoc trial follow-up), with the
callscope collector attached.

Run for real (needs LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET and provider keys for
the STT, LLM and TTS below, e.g. OPENAI_API_KEY, DEEPGRAM_API_KEY, CARTESIA_API_KEY):

    CALLSCOPE_COLLECT_URL=https://analytics.example.com CALLSCOPE_INGEST_TOKEN=... \\
        python examples/agent.py dev

Keyless simulation (the same agent and tools, a scripted LLM, text only, no LiveKit server):

    python examples/agent.py simulate --to file://./out            # one JSON file per call
    python examples/agent.py simulate --to http://127.0.0.1:8080   # a local `callscope serve`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callscope.collect import attach, make_on_session_end
from callscope.devtools.simulate import (
    DEFAULT_SCRIPT,
    SalesAgent,
    new_session,
    run_session,
)

DEFAULT_TRANSPORT = "file://./callscope-records"


def _consent_from_metadata(metadata: str) -> dict[str, bool]:
    """Consent comes with the job (set by whoever dispatched the call)."""
    try:
        data = json.loads(metadata) if metadata else {}
    except json.JSONDecodeError:
        data = {}
    consent = data.get("consent") if isinstance(data, dict) else None
    if isinstance(consent, dict):
        return {
            "recording": bool(consent.get("recording", True)),
            "analytics": bool(consent.get("analytics", True)),
        }
    return {"recording": True, "analytics": True}


def run_live() -> None:
    """The real agent: LiveKit room, STT/LLM/TTS plugins, collector attached."""
    from livekit.agents import AgentServer, AgentSession, JobContext, cli, inference

    transport = os.environ.get("CALLSCOPE_COLLECT_URL", DEFAULT_TRANSPORT)
    token = os.environ.get("CALLSCOPE_INGEST_TOKEN")
    # Either attach() (tool timings, connection stats, live signals) or, with
    # CALLSCOPE_USE_SESSION_REPORT=1, LiveKit's own SessionReport from the session-end hook.
    use_report = bool(os.environ.get("CALLSCOPE_USE_SESSION_REPORT"))
    hook = make_on_session_end(transport, token=token) if use_report else None
    server = AgentServer()

    @server.rtc_session(agent_name="pandadoc-trial", on_session_end=hook)
    async def entrypoint(ctx: JobContext) -> None:
        await ctx.connect()
        session: AgentSession[Any] = AgentSession(
            stt=inference.STT("deepgram/nova-3"),
            llm=inference.LLM("openai/gpt-4.1-mini"),
            tts=inference.TTS("cartesia/sonic-2"),
        )
        if use_report:
            await session.start(SalesAgent(), room=ctx.room)
            return
        collector = attach(
            session,
            session_id=ctx.room.name,
            transport=transport,
            token=token,
            room=ctx.room,
            consent=_consent_from_metadata(ctx.job.metadata),
            agent_name="pandadoc-trial",
            agent_version=os.environ.get("AGENT_VERSION", "dev"),
        )

        async def _flush() -> None:
            # records are already spooled; this only shortens the wait before they are sent
            await asyncio.to_thread(collector.flush, 5.0)

        ctx.add_shutdown_callback(_flush)
        await session.start(SalesAgent(), room=ctx.room)
        await session.generate_reply(
            instructions="Greet the caller by name if you know it and ask how the trial is going."
        )

    cli.run_app(server)


async def simulate(transport: str, calls: int) -> int:
    """The same agent and tools with the scripted LLM: text only, no keys, no server."""
    collectors = []
    for i in range(calls):
        session = new_session(DEFAULT_SCRIPT)
        collector = attach(
            session,
            session_id=f"sim-{os.getpid()}-{i + 1}",
            transport=transport,
            agent_name="pandadoc-trial",
            agent_version="simulation",
            participant={
                "identity": "caller-sim",
                "name": "Marisol Echeverria",
                "email": "marisol@hillcountryhomes.com",
                "metadata": {},
            },
            consent={"recording": True, "analytics": True},
        )
        collector.note_signal("team_size", 12)
        collector.note_signal("monthly_volume", 80)
        await session.start(SalesAgent())
        await run_session(session, DEFAULT_SCRIPT)
        collectors.append(collector)
        print(f"call {collector.session_id}: {len(session.history.items)} chat items")
    delivered = await asyncio.to_thread(collectors[0].flush, 15.0)
    stats = collectors[0].stats()
    print(
        f"delivered={stats.delivered} waiting={stats.spooled_waiting} "
        f"rejected={stats.rejected} -> {transport}"
    )
    if not delivered:
        print(
            f"backend not reachable yet: records stay in {stats.spool_dir} and are re-sent "
            "on the next run",
            file=sys.stderr,
        )
        return 1
    return 0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "simulate":
        parser = argparse.ArgumentParser(prog="examples/agent.py simulate")
        parser.add_argument(
            "--to",
            default=os.environ.get("CALLSCOPE_COLLECT_URL", DEFAULT_TRANSPORT),
            help="transport URL: file://DIR, http(s)://HOST, sqs://, redis://",
        )
        parser.add_argument("--calls", type=int, default=3)
        args = parser.parse_args(sys.argv[2:])
        raise SystemExit(asyncio.run(simulate(args.to, args.calls)))
    run_live()


if __name__ == "__main__":
    main()
