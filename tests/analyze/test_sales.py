"""Sales signals: unit behaviour of the text helpers and the labeled cases end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from callscope.analyze import analyze_to_contract, build_view
from callscope.analyze.modules.sales import extract
from callscope.analyze.text.normalize import to_digits
from callscope.analyze.text.numbers import pick_team, team_candidates, volume_candidates
from callscope.analyze.text.phrases import PhraseMatcher
from callscope.analyze.text.timeline import calendar_timeline
from callscope.contract.parse import validate_record
from callscope.eval import team_band, volume_band
from callscope.profile import load_profile
from tests.analyze.callbuilder import timeline_id

CASES = Path(__file__).parent / "cases"
DEV = Path("/work/shared/evals/dev")
SINGLE = (
    "team_size",
    "monthly_volume",
    "current_tool",
    "use_case",
    "industry",
    "budget_authority",
    "timeline",
)
MULTI = ("integrations", "competitors", "objections")


def _record(turns: list[tuple[str, str]], started: str = "2026-10-01T15:00:00Z") -> Any:
    items = [
        {
            "type": "message",
            "id": f"m{i}",
            "role": role,
            "content": [text],
            "interrupted": False,
            "created_at": 1.0 + i,
        }
        for i, (role, text) in enumerate(turns)
    ]
    return validate_record(
        {
            "schema_version": "1",
            "session_id": "s-1",
            "started_at": started,
            "ended_at": "2026-10-01T15:05:00Z",
            "transcript": {"items": items},
        },
        "test",
    )


def _sales(turns: list[tuple[str, str]], started: str = "2026-10-01T15:00:00Z") -> dict[str, Any]:
    return extract(build_view(_record(turns, started)), load_profile())


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "so we've got thirty agents, well, actually twenty six now",
            "so we've got 30 agents, well, actually 26 now",
        ),
        ("a couple hundred a month", "200 a month"),
        ("a few dozen a week", "36 a week"),
        ("ten-ish", "10"),
    ],
)
def test_to_digits(text: str, want: str) -> None:
    assert to_digits(text) == want


def test_spoken_phone_and_email_never_become_numbers() -> None:
    digits = to_digits(
        "my direct line is six one seven, five five five, oh one four two and "
        "email marisol at hill country homes dot com"
    )
    assert not any(ch.isdigit() for ch in digits)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("thirty agents, well, actually twenty six now, and all twenty six would use it", 26),
        ("sixteen people. sorry, eighteen - i forgot the two we just hired", 18),
        (
            "the company is forty five people but only the ae team, that's nine. no sorry, eleven, "
            "we hired two more in september",
            11,
        ),
        ("three of us. me and my two paralegals.", 3),
        ("it's just me and my husband", 2),
        ("yeah about that. ten-ish. the account managers and our two founders", 10),
        ("i manage about forty rental units and it's just me, no staff", 1),
    ],
)
def test_team_size_candidates(text: str, want: int) -> None:
    assert pick_team(team_candidates(to_digits(text.lower()), True)) == want


@pytest.mark.parametrize(
    ("text", "unit", "want"),
    [
        ("fifteen a day, give or take", "month", 315),
        ("maybe eight a week. no, wait - more like twelve a week", "month", 52),
        ("two to four a month", "month", 3),
        ("ninety to a hundred and ten a month", "month", 100),
        ("thirty-five, give or take", "week", 152),
        ("around three hundred.", "month", 300),
        ("about sixty a week. seventy in renewal season, but call it sixty a week", "month", 260),
    ],
)
def test_volume_candidates(text: str, unit: str, want: int) -> None:
    found = volume_candidates(to_digits(text), True, unit)
    assert found and found[-1].value == want


def test_money_and_time_are_not_volume() -> None:
    assert (
        volume_candidates(
            to_digits("i pay sixty dollars a month for eight hours a week"), False, "month"
        )
        == []
    )


def test_phrase_matcher_finds_asr_splits_and_prefers_longest() -> None:
    m = PhraseMatcher(
        {
            "brand": {
                "docusign": ["docusign"],
                "dropbox": ["dropbox"],
                "dropbox_sign": ["dropbox sign"],
            }
        }
    )
    ids = [h.id for h in m.find("we use docu sign and drop box sign, plus dropbox")]
    assert ids == ["docusign", "dropbox_sign", "dropbox"]


@pytest.mark.parametrize(
    ("clause", "today", "want"),
    [
        ("before our fiscal year starts in january", date(2026, 10, 14), "this_quarter"),
        ("for the new year intake, so february", date(2026, 11, 10), "later"),
        ("we want it before the end of the year", date(2026, 3, 1), "later"),
        ("we need it by november", date(2026, 10, 5), "this_month"),
    ],
)
def test_calendar_timeline(clause: str, today: date, want: str) -> None:
    assert timeline_id(calendar_timeline(clause, today)) == want


def test_negated_and_past_integrations_do_not_count_but_competitors_do() -> None:
    out = _sales(
        [
            ("assistant", "Which CRM do you use?"),
            (
                "user",
                "we dropped salesforce last year, we're on hub spot now. "
                "we used to pay docusign but cancelled it",
            ),
        ]
    )
    assert out["integrations"] == ["hubspot"]
    assert out["competitors"] == ["docusign"]
    assert out["current_tool"] is None


def test_agent_guess_counts_only_when_confirmed() -> None:
    confirmed = _sales(
        [("assistant", "So about twenty reps would use it?"), ("user", "yes exactly")]
    )
    ignored = _sales(
        [("assistant", "So about twenty reps would use it?"), ("user", "why are you calling me")]
    )
    assert confirmed["team_size"] == 20
    assert ignored["team_size"] is None


def test_waved_off_concern_is_no_objection() -> None:
    out = _sales(
        [
            ("assistant", "We don't have a Bullhorn connector, unfortunately."),
            ("user", "that's not a deal-breaker for us. security is not a concern at all"),
        ]
    )
    assert out["objections"] == []


def test_empty_and_agent_only_calls_give_no_signals() -> None:
    for turns in ([], [("assistant", "Hi, this is Ava. We work with Salesforce and DocuSign.")]):
        out = _sales(turns)
        assert out["team_size"] is None and out["integrations"] == []
        assert out["competitors"] == [] and out["objections"] == []


def _cases(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


@pytest.mark.parametrize("path", _cases(CASES) + _cases(DEV), ids=lambda p: p.stem)
def test_labeled_case(path: Path) -> None:
    case = json.loads(path.read_text())
    got = analyze_to_contract(validate_record(case["record"], str(path)), load_profile())
    exp = case["expected"]
    assert "errors" not in got
    for key in SINGLE:
        want, have = exp[f"sales.{key}"], got["sales"][key]
        if key == "team_size":
            want, have = team_band(want), team_band(have)
        elif key == "monthly_volume":
            want, have = volume_band(want), volume_band(have)
        assert have == want, f"{key}: {have!r} != {want!r}"
    for key in MULTI:
        assert set(got["sales"][key]) == set(exp[f"sales.{key}"]), key
    assert got["lead"]["tier"] == exp["lead.tier"]
