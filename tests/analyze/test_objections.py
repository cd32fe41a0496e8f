"""Objection details: the agent's answer and the caller's reaction around each one."""

from __future__ import annotations

from typing import Any

from callscope.analyze import analyze_to_contract
from callscope.contract.parse import validate_record
from callscope.profile import load_profile


def _run(turns: list[tuple[str, str]]) -> dict[str, Any]:
    items = [
        {"type": "message", "id": f"m{i}", "role": r, "content": [t], "created_at": 1.0 + i}
        for i, (r, t) in enumerate(turns)
    ]
    rec = validate_record(
        {
            "schema_version": "1",
            "session_id": "o-1",
            "started_at": "2026-10-01T15:00:00Z",
            "ended_at": "2026-10-01T15:05:00Z",
            "transcript": {"items": items},
        },
        "test",
    )
    return analyze_to_contract(rec, load_profile())


def test_objection_answered_and_accepted() -> None:
    out = _run(
        [
            ("assistant", "The Business plan is forty-nine dollars per user."),
            ("user", "honestly that's too expensive for us. we also looked at hello sign"),
            (
                "assistant",
                "Many small teams start on Essentials, which is nineteen dollars "
                "a month, and move up later.",
            ),
            ("user", "okay, that works"),
        ]
    )
    assert out["sales"]["objections"] == ["price"]
    item = out["objections"]["items"][0]
    assert item["id"] == "price" and item["turn"] == 1
    assert item["answered_by_agent"] is True and item["caller_reaction"] == "accepted"
    assert [c["id"] for c in out["objections"]["competitors"]] == ["dropbox_sign"]


def test_unanswered_objection_and_comparison_request() -> None:
    out = _run(
        [
            ("assistant", "How do you handle contracts?"),
            ("user", "we're locked into docusign until march. how do you compare to docusign?"),
        ]
    )
    assert out["sales"]["objections"] == ["contract_lock_in"]
    assert out["objections"]["unanswered"] == 1
    assert out["objections"]["comparison_requests"][0]["turn"] == 1


def test_approval_answer_to_who_decides_is_no_objection() -> None:
    out = _run(
        [
            ("assistant", "Who would make the decision on buying a tool like this?"),
            ("user", "not me, the purchase has to be approved by procurement"),
        ]
    )
    assert out["sales"]["objections"] == []
    assert out["sales"]["budget_authority"] == "needs_approval"
