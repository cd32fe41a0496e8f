"""The LiveKit way: ship ``ctx.make_session_report()`` from the server's session-end hook.

::

    server = AgentServer()

    @server.rtc_session(on_session_end=make_on_session_end("https://ingest.example.com",
                                                           token=os.environ["CALLSCOPE_TOKEN"]))
    async def entrypoint(ctx: JobContext) -> None: ...

The report is converted to a SessionRecord v1 (``callscope.contract.session_report``) and
goes through the same delivery as :func:`callscope.collect.attach`: spooled, retried,
never raising into the job. ``to_dict`` and the conversion run on the encoder thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from callscope.collect.delivery import DeliveryOptions, get_delivery
from callscope.collect.transports import Transport

log = logging.getLogger("callscope.collect")

ENV_TRANSPORT = "CALLSCOPE_COLLECT_URL"
ENV_TOKEN = "CALLSCOPE_INGEST_TOKEN"


class _ReportJob:
    def __init__(
        self,
        report: Any,
        session_id: str,
        consent: Any,
        agent_version: str | None,
        participant: Any,
    ) -> None:
        self.session_id = session_id
        self._report = report
        self._consent = consent
        self._agent_version = agent_version
        self._participant = participant

    def build(self) -> dict[str, Any]:
        from callscope.collect import record as rec
        from callscope.contract.session_report import record_from_session_report

        data = self._report.to_dict() if hasattr(self._report, "to_dict") else dict(self._report)
        record = record_from_session_report(data)
        if not record.get("session_id"):
            record["session_id"] = self.session_id
        if self._agent_version:
            record["agent"]["version"] = self._agent_version
        if self._participant is not None:
            record["participant"] = rec.participant_dict(self._participant)
        consent = rec.consent_dict(self._consent)
        record["consent"] = consent
        if not consent["analytics"]:
            transcript = record["transcript"]
            transcript["items"] = rec.strip_content(list(transcript.get("items") or []))
            transcript["redacted"] = "consent.analytics=false"
            for call in record["tool_calls"]:
                call["arguments"] = {}
                call["output"] = None
            # the report's events repeat every chat item and tool argument
            record["livekit_report"].pop("events", None)
        return record


def _report_session_id(report: Any, ctx: Any) -> str:
    for value in (getattr(report, "room", None), getattr(report, "job_id", None)):
        if isinstance(value, str) and value:
            return value
    job = getattr(ctx, "job", None)
    return str(getattr(job, "id", "") or "unknown-session")


def make_on_session_end(
    transport: str | Transport | None = None,
    *,
    token: str | None = None,
    consent: Any = None,
    agent_version: str | None = None,
    participant: Callable[[Any], Any] | None = None,
    spool_dir: str | Path | None = None,
    options: DeliveryOptions | None = None,
) -> Callable[[Any], Awaitable[None]]:
    """An ``on_session_end(ctx)`` coroutine for ``AgentServer.rtc_session``.

    ``transport`` defaults to ``$CALLSCOPE_COLLECT_URL`` and ``token`` to
    ``$CALLSCOPE_INGEST_TOKEN``. ``consent`` may be a value or a callable ``(ctx) -> value``;
    ``participant`` a callable ``(ctx) -> participant``.
    """
    url = transport or os.environ.get(ENV_TRANSPORT)
    if not url:
        raise ValueError(f"make_on_session_end(): pass transport= or set ${ENV_TRANSPORT}")
    opts = options or DeliveryOptions()
    if spool_dir is not None:
        from dataclasses import replace

        opts = replace(opts, spool_dir=Path(spool_dir))
    delivery = get_delivery(url, token=token or os.environ.get(ENV_TOKEN), options=opts)

    async def on_session_end(ctx: Any) -> None:
        try:
            report = ctx.make_session_report()
            who = participant(ctx) if participant is not None else None
            agreed = consent(ctx) if callable(consent) else consent
            delivery.submit(
                _ReportJob(report, _report_session_id(report, ctx), agreed, agent_version, who)
            )
        except Exception as exc:
            log.warning(
                "callscope: could not ship the session report: %s: %s", type(exc).__name__, exc
            )

    return on_session_end


async def on_session_end(ctx: Any) -> None:
    """Ready-made hook configured from ``$CALLSCOPE_COLLECT_URL`` / ``$CALLSCOPE_INGEST_TOKEN``."""
    try:
        hook = make_on_session_end()
    except ValueError as exc:
        log.warning("callscope: %s; session report not shipped", exc)
        return
    await hook(ctx)
