"""The session page's LiveKit panel: per-turn waterfall, outcome/evaluations, audio player.

Read from the telemetry store the ingest fills from LiveKit's own observability upload
(:mod:`callscope.ingest.observability`); a call that came through ``collect.attach`` only
has none of it, and the panel says so. The audio is personal data: it is served only to
users who see PII, and only the key recorded for the session is ever read.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callscope.config import Settings
from callscope.dashboard.waterfall import waterfall
from callscope.store.telemetry import TelemetryStore, telemetry_path

if TYPE_CHECKING:
    from callscope.dashboard.state import Dashboard

_stores: dict[Path, TelemetryStore] = {}
_lock = threading.Lock()


def _telemetry(settings: Settings) -> TelemetryStore | None:
    path = telemetry_path(settings.data_dir)
    if not path.exists():  # nothing ever uploaded: do not create the file from a page view
        return None
    with _lock:
        if path not in _stores:
            _stores[path] = TelemetryStore(path)
        return _stores[path]


def livekit_panel(settings: Settings, session_id: str, *, pii: bool) -> dict[str, Any]:
    """``{"present", "waterfall", "outcome", "evaluations", "audio_url", "audio_hidden"}``."""
    empty: dict[str, Any] = {"present": False, "waterfall": [], "audio_url": None}
    tel = _telemetry(settings)
    if tel is None:
        return empty
    recordings = tel.recordings_for_session(session_id)
    if not recordings:
        return empty
    rec = recordings[-1]
    notes = tel.annotations(rec.job_id)
    has_audio = rec.audio_key is not None
    return {
        "present": True,
        "job_id": rec.job_id,
        "room_id": rec.room_id,
        "waterfall": waterfall(tel.spans(rec.job_id)),
        "outcome": notes.get("outcome"),
        "evaluations": notes.get("evaluations") or [],
        "audio_url": f"/sessions/{quote(session_id, safe='')}/audio" if has_audio and pii else None,
        "audio_hidden": has_audio and not pii,
    }


def audio_for(settings: Settings, session_id: str) -> bytes | None:
    tel = _telemetry(settings)
    if tel is None:
        return None
    keys = [r.audio_key for r in tel.recordings_for_session(session_id) if r.audio_key]
    if not keys:
        return None
    from callscope.store.raw import open_raw_store

    data: bytes | None = open_raw_store(settings.resolved_raw_url()).get_audio(keys[-1])
    return data


def add_recording_routes(router: APIRouter, dash: Dashboard) -> None:
    from fastapi.concurrency import run_in_threadpool

    @router.get("/sessions/{session_id}/audio", include_in_schema=False)
    async def session_audio(request: Request, session_id: str) -> Response:
        user = dash.auth.user_from_request(request)
        if user is None:
            return Response("authentication required", status_code=401)
        if not user.sees_pii:
            return Response("call audio is personal data; your role does not see it", 403)
        data = await run_in_threadpool(audio_for, dash.settings, session_id)
        if data is None:
            return Response("no audio for this session (or it was forgotten)", status_code=404)
        return Response(
            data,
            media_type="audio/ogg",
            headers={"Cache-Control": "private, no-store", "Accept-Ranges": "none"},
        )
