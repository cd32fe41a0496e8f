from __future__ import annotations

import json

from callscope.governance.consent import apply_consent, text_allowed
from tests.governance.conftest import DEV


def _record(**consent: bool) -> dict:  # type: ignore[type-arg]
    record = json.loads((DEV / "dev_001.json").read_text())["record"]
    record["consent"] = consent
    return record


def test_full_consent_is_unchanged() -> None:
    record = _record(recording=True, analytics=True)
    assert apply_consent(record) == record
    assert text_allowed(record)


def test_no_analytics_keeps_metrics_only() -> None:
    record = _record(recording=True, analytics=False)
    out = apply_consent(record)
    blob = json.dumps(out)
    for said in ("marisol", "hill country", "HubSpot", "docusign"):
        assert said.lower() not in blob.lower(), said
    assert out["discovered_signals"] == {}
    assert all(not i.get("content") for i in out["transcript"]["items"])
    assert all(i["arguments"] == {} and i["output"] is None for i in out["tool_calls"])
    assert out["participant"] == {"identity": record["participant"]["identity"]}
    # metrics survive: usage, connection and per-turn latency
    assert out["usage"] == record["usage"] and out["connection"] == record["connection"]
    turn_metrics = [i["metrics"] for i in out["transcript"]["items"] if i.get("metrics")]
    assert turn_metrics
    assert not text_allowed(record)
    assert "marisol" in json.dumps(record).lower()  # input untouched


def test_no_recording_drops_transcript_keeps_agent_signals() -> None:
    record = _record(recording=False, analytics=True)
    out = apply_consent(record)
    assert all(not i.get("content") for i in out["transcript"]["items"])
    assert out["discovered_signals"] == record["discovered_signals"]
    assert not text_allowed(record)
