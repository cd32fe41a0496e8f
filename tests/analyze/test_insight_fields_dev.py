"""Issue 19's per-call insight fields, from `callscope analyze --format json` on the dev calls.

Where the dev labels say the answer (tier, timeline, authority, objections, meeting,
interruptions, sentiment, knowledge searches) the field is compared with them; where no
label exists the test checks a property the field must have on a real call (a quote is the
caller's words at that turn, a name is said in the call, a share matches its parts).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest

from callscope.analyze.text.normalize import normalize
from callscope.profile import load_profile
from callscope.profile.insights import BUYING_SIGNAL_KINDS

Case = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]  # output, labels, record
NEAR_TERM = ("this_week", "this_month", "this_quarter")


def _analyze(paths: list[pathlib.Path]) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "callscope",
            "analyze",
            "--format",
            "json",
            "-j",
            "1",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cases(dev_cases: list[pathlib.Path]) -> list[Case]:
    outputs = _analyze(dev_cases)
    assert len(outputs) == len(dev_cases)
    out = []
    for path, got in zip(dev_cases, outputs, strict=True):
        data = json.loads(path.read_text())
        assert got["session_id"] == data["record"]["session_id"]
        out.append((got, data["expected"], data["record"]))
    return out


def _caller_text(record: dict[str, Any]) -> dict[int, str]:
    """Turn index -> caller text; a turn's index is its position among the messages."""
    out = {}
    messages = [i for i in record["transcript"]["items"] if i.get("type", "message") == "message"]
    for index, item in enumerate(messages):
        if item.get("role") == "user":
            content = item.get("content")
            out[index] = " ".join(content) if isinstance(content, list) else str(content)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("…", " "))


def _is_caller_quote(quote: dict[str, Any], record: dict[str, Any]) -> bool:
    """The quote is the caller's turn (speech-to-text fillers may be dropped, not words added)."""
    said = _caller_text(record).get(int(quote["turn"]))
    if said is None:
        return False
    words = _words(str(quote["quote"]))[:-1]  # the last word may be cut by the clip
    return bool(words) and set(words) <= set(_words(said))


def _all_text(record: dict[str, Any]) -> str:
    return normalize(" ".join(_caller_text(record).values()))


# --- Sales ---------------------------------------------------------------------------------


def test_buying_signals_are_caller_quotes_of_known_kinds(cases: list[Case]) -> None:
    seen = set()
    for got, labels, record in cases:
        for sig in got["insights"]["buying_signals"]:
            assert sig["kind"] in BUYING_SIGNAL_KINDS
            assert _is_caller_quote(sig, record), (got["session_id"], sig)
            seen.add(sig["kind"])
        # A caller who named a near-term start (label) gave a start-date buying signal.
        kinds = {s["kind"] for s in got["insights"]["buying_signals"]}
        if labels["sales.timeline"] in NEAR_TERM:
            assert "named_start_date" in kinds, got["session_id"]
    assert len(seen) >= 4  # the dev set exercises most kinds, not one


def test_stakeholder_names_are_said_in_the_call(cases: list[Case]) -> None:
    profile = load_profile()
    named = {}
    for got, labels, record in cases:
        text = _all_text(record)
        for person in got["insights"]["stakeholders"]:
            assert person["role"] in profile.insights.stakeholders
            assert _is_caller_quote(person, record)
            if person["name"]:
                assert person["name"].lower() in text
                named[got["session_id"]] = (person["role"], person["name"])
        if labels["sales.budget_authority"] == "needs_approval":
            # Someone else approves: the call names who.
            assert got["insights"]["stakeholders"], got["session_id"]
    # "take it to dale, he's the owner"; "run it by Marco, our founder" — and nothing that is
    # a common word after a role ("legal separately", "IT team has").
    assert named == {"room-dev_005": ("owner", "Dale"), "room-dev_008": ("founder", "Marco")}


def test_switching_barriers_follow_the_labelled_objections(cases: list[Case]) -> None:
    barrier_ids = set(load_profile().insights.barrier_objections)
    with_barrier = 0
    for got, labels, record in cases:
        barriers = got["insights"]["switching_barriers"]
        for b in barriers:
            assert _is_caller_quote(b, record), (got["session_id"], b)
        raised = barrier_ids & set(labels["sales.objections"])
        if raised & {"contract_lock_in", "switching_cost"}:
            assert barriers, got["session_id"]
            with_barrier += 1
    assert with_barrier >= 3


def test_feature_requests_name_profile_features_the_caller_said(cases: list[Case]) -> None:
    features = load_profile().insights.features
    total = 0
    for got, _, record in cases:
        for req in got["insights"]["feature_requests"]:
            spec = features[req["feature"]]
            said = normalize(_caller_text(record)[req["turn"]])
            assert any(normalize(w) in said for w in [spec.label.lower(), *spec.synonyms])
            assert req["interest"] in ("high", "medium", "low")
            total += 1
    assert total >= 30
    assert any(
        r["interest"] == "high" for g, _, _ in cases for r in g["insights"]["feature_requests"]
    )


def test_location_from_the_callers_words_or_the_record(cases: list[Case]) -> None:
    for got, _, record in cases:
        where = got["insights"]["location"]
        assert where, got["session_id"]
        meta = json.dumps(record.get("participant"), ensure_ascii=False) + json.dumps(
            record.get("connection")
        )
        assert where.lower() in _all_text(record) or where in meta, (got["session_id"], where)
    by_id = {g["session_id"]: g["insights"]["location"] for g, _, _ in cases}
    assert by_id["room-dev_001"] == "Austin" and by_id["room-dev_018"] == "Pittsburgh"


def test_urgency_matches_the_labelled_timeline(cases: list[Case]) -> None:
    for got, labels, _ in cases:
        urgency = got["insights"]["urgency"]
        timeline = labels["sales.timeline"]
        if timeline == "this_week":
            assert urgency == "high", got["session_id"]
        elif timeline in ("this_month", "this_quarter"):
            assert urgency in ("high", "medium"), got["session_id"]
        elif timeline is None:
            assert urgency in ("low", "medium"), got["session_id"]


def test_key_quotes_are_three_to_five_distinct_caller_turns(cases: list[Case]) -> None:
    for got, _, record in cases:
        quotes = got["insights"]["key_quotes"]
        assert 3 <= len(quotes) <= 5, got["session_id"]
        turns = [q["turn"] for q in quotes]
        assert turns == sorted(set(turns))
        assert all(_is_caller_quote(q, record) for q in quotes)
        # Quotes behind the scored signals carry the most facts: at least one is among them.
        evidence = {e["turn"] for items in got["sales"]["evidence"].values() for e in items}
        if evidence:
            assert evidence & set(turns), got["session_id"]


# --- Lead ----------------------------------------------------------------------------------


def test_lead_sub_scores_follow_the_labels(cases: list[Case]) -> None:
    for got, labels, _ in cases:
        sub = got["lead"]["sub_scores"]
        assert set(sub) == {"company_fit", "engagement", "intent", "urgency", "authority"}
        assert all(0.0 <= v <= 100.0 for v in sub.values())
        authority = {"decision_maker": 100.0, "influencer": 66.7, "needs_approval": 33.3, None: 0.0}
        assert sub["authority"] == authority[labels["sales.budget_authority"]], got["session_id"]
        if labels["sales.timeline"] in NEAR_TERM:
            assert sub["urgency"] >= 60.0
        assert sub["engagement"] == round(10 * got["quality"]["engagement_score"], 1)
        if labels["tools.meeting_booked"]:
            assert sub["intent"] >= 30.0
    best = load_profile().scoring.tier_ids()[0]
    fits = [g["lead"]["sub_scores"]["company_fit"] for g, lab, _ in cases]
    top = [f for f, (_, lab, _) in zip(fits, cases, strict=True) if lab["lead.tier"] == best]
    rest = [f for f, (_, lab, _) in zip(fits, cases, strict=True) if lab["lead.tier"] != best]
    assert min(top) > sum(rest) / len(rest)


def test_signal_confidence_is_zero_exactly_where_the_label_is_unknown(cases: list[Case]) -> None:
    agree = 0
    for got, labels, _ in cases:
        for field, conf in got["lead"]["signal_confidence"].items():
            label = labels.get(f"sales.{field}")
            assert 0.0 <= conf <= 1.0
            if label in (None, []):
                assert conf == 0.0 or got["sales"][field] not in (None, []), (
                    got["session_id"],
                    field,
                )
            elif got["sales"][field] == label:
                assert conf >= 0.5, (got["session_id"], field)
                agree += 1
    assert agree >= 100


def test_discovery_completion_matches_the_labelled_fields(cases: list[Case]) -> None:
    fields = load_profile().insights.discovery_fields
    off = 0
    for got, labels, _ in cases:
        known = sum(labels[f"sales.{f}"] not in (None, []) for f in fields)
        expected = round(known / len(fields), 3)
        off += abs(got["lead"]["discovery_completion"] - expected) > 1e-9
    assert off <= 2, off


def test_time_to_qualification_lies_inside_the_call(cases: list[Case]) -> None:
    for got, _, record in cases:
        ttq = got["lead"]["time_to_qualification_s"]
        assert ttq is not None and 0.0 < ttq <= record["duration_seconds"], got["session_id"]


# --- Next step -----------------------------------------------------------------------------


def _expected_owner(labels: dict[str, Any]) -> str:
    first, second = load_profile().scoring.tier_ids()[:2]
    if labels["lead.tier"] == first:
        return "enterprise_ae" if (labels["sales.team_size"] or 0) >= 50 else "mid_market_ae"
    return "smb_ae" if labels["lead.tier"] == second else "trial_success"


def test_next_step_owner_action_priority_and_battlecards(cases: list[Case]) -> None:
    profile = load_profile()
    rules = profile.insights.next_best_actions
    for got, labels, _ in cases:
        step = got["next_step"]
        sid = got["session_id"]
        assert step["recommended_owner"] == _expected_owner(labels), sid
        rule = rules[step["rule"]] if step["rule"] is not None else None
        assert step["next_best_action"] == (
            rule.action if rule else profile.insights.default_action
        )
        assert step["follow_up_priority"] in ("high", "medium", "low")
        if labels["tools.meeting_booked"]:
            assert step["next_best_action"].startswith("Prepare for the booked meeting"), sid
        elif got["tools"]["booking_failed"]:
            assert step["follow_up_priority"] == "high", sid
        named = set(labels["sales.competitors"]) | {labels["sales.current_tool"]}
        cards = [c["competitor"] for c in step["battlecards"]]
        assert set(cards) == {c for c in named if c in profile.insights.battlecards}, sid
        assert all(
            c["battlecard"] == profile.insights.battlecards[c["competitor"]]
            for c in step["battlecards"]
        )


# --- Quality -------------------------------------------------------------------------------


def test_interruption_rate_and_dead_air_from_their_parts(cases: list[Case]) -> None:
    for got, labels, _ in cases:
        q = got["quality"]
        assert q["interruptions"] == labels["quality.interruptions"]
        assert q["interruption_rate_pct"] == round(
            100 * labels["quality.interruptions"] / q["agent_turns"], 1
        )
        duration = got["performance"]["duration_s"]
        assert q["dead_air_pct"] == pytest.approx(100 * q["dead_air_s"] / duration, abs=0.01)
        # People speak 100-250 words a minute; the agent and the caller are measured apart.
        assert 100 < q["agent_wpm"] < 250 and 100 < q["caller_wpm"] < 250


def test_questions_listening_and_resolution(cases: list[Case]) -> None:
    for got, _, _ in cases:
        q = got["quality"]
        asked = q["caller_questions_detected"]
        assert 0 <= q["unanswered_questions"] <= asked
        assert 0 <= q["active_listening_turns"] <= q["agent_turns"]
        if asked:
            assert q["question_resolution_rate"] == pytest.approx(
                1 - q["unanswered_questions"] / asked, abs=0.01
            )
        else:
            assert q["question_resolution_rate"] is None
    assert sum(g["quality"]["active_listening_turns"] > 0 for g, _, _ in cases) >= 18
    assert sum(g["quality"]["unanswered_questions"] for g, _, _ in cases) >= 1


def test_satisfaction_and_effectiveness_rank_the_labelled_calls(cases: list[Case]) -> None:
    by: dict[str, list[float]] = {"positive": [], "neutral": [], "negative": []}
    for got, labels, _ in cases:
        q = got["quality"]
        assert 0.0 <= q["satisfaction_proxy"] <= 10.0 and 0.0 <= q["agent_effectiveness"] <= 10.0
        by[labels["sentiment.overall"]].append(q["satisfaction_proxy"])
    assert max(by["negative"]) < min(by["positive"])
    assert sum(by["positive"]) / len(by["positive"]) > sum(by["neutral"]) / len(by["neutral"])
    booked = [
        g["quality"]["agent_effectiveness"] for g, lab, _ in cases if lab["tools.meeting_booked"]
    ]
    not_booked = [
        g["quality"]["agent_effectiveness"]
        for g, lab, _ in cases
        if not lab["tools.meeting_booked"]
    ]
    assert sum(booked) / len(booked) > sum(not_booked) / len(not_booked)


def test_engagement_components_recommendation_and_tone(cases: list[Case]) -> None:
    for got, labels, _ in cases:
        q, s = got["quality"], got["sentiment"]
        assert sum(q["engagement_components"].values()) == pytest.approx(
            q["engagement_score"], abs=0.15
        )
        low = q["engagement_score"] < 6 or q["satisfaction_proxy"] < 5
        assert (q["recommendation"] is not None) == low, got["session_id"]
        assert 0.0 <= s["confidence"] <= 1.0
        if labels["sentiment.overall"] == "negative":
            assert s["tone"] == "frustrated"
        if s["tone"] == "enthusiastic":
            assert labels["sentiment.overall"] == "positive"
    assert sum(g["quality"]["recommendation"] is not None for g, _, _ in cases) >= 3


# --- Performance ---------------------------------------------------------------------------


def test_performance_fields_from_the_records_metrics(cases: list[Case]) -> None:
    for got, _, record in cases:
        p = got["performance"]
        assert p["stt_duration_ms"] is not None and p["stt_duration_ms"]["avg"] > 0
        assert p["stt_duration_source"] in ("stt_metrics", "transcription_delay")
        assert p["total_tokens"] > 0 and p["tts_characters"] > 0 and p["tts_audio_s"] > 0
        assert p["tokens_per_s"] == p["llm_tokens_per_s"]["avg"]
        assert p["audio_quality"] is not None and 1.0 <= p["audio_quality"] <= 5.0
        assert 0 <= p["score"] <= 100
        if not p["breaches"] and not p["errors"] and not p["tool_errors"]:
            assert p["score"] >= 90, got["session_id"]
        if p["breaches"]:
            assert p["score"] < 100
        spoken = sum(
            len(
                "".join(i["content"])
                if isinstance(i.get("content"), list)
                else str(i.get("content"))
            )
            for i in record["transcript"]["items"]
            if i.get("role") == "assistant"
        )
        assert 0.5 * spoken <= p["tts_characters"] <= 1.5 * spoken  # characters the agent said


# --- Knowledge base and tools --------------------------------------------------------------


def test_kb_and_tool_fields_follow_the_labelled_searches(cases: list[Case]) -> None:
    for got, labels, record in cases:
        t = got["tools"]
        assert sum(t["kb_categories"].values()) == labels["tools.kb_searches"]
        assert 0 <= t["kb_repeated_searches"] <= max(0, labels["tools.kb_searches"] - 1)
        if labels["tools.kb_searches"] > labels["tools.kb_failed_searches"]:
            assert t["kb_avg_results"] is not None and t["kb_avg_results"] >= 0, got["session_id"]
        names = {c["name"] for c in record.get("tool_calls") or []}
        assert set(t["error_rate_by_tool"]) == names
        assert all(0.0 <= r <= 100.0 for r in t["error_rate_by_tool"].values())
        # Every booked dev meeting is the slot the caller last asked for.
        assert t["booking_accurate"] is (True if labels["tools.meeting_booked"] else None), got[
            "session_id"
        ]


def test_booking_accuracy_notices_a_slot_the_caller_did_not_ask_for(
    dev_cases: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    data = json.loads(next(p for p in dev_cases if p.name == "dev_001.json").read_text())
    record = data["record"]
    for call in record["tool_calls"]:
        if "preferred_time" in call["arguments"]:
            call["arguments"]["preferred_time"] = "09:00"  # the caller asked for half past two
    path = tmp_path / "moved.json"
    path.write_text(json.dumps(record))
    assert _analyze([path])[0]["tools"]["booking_accurate"] is False


# --- Summary -------------------------------------------------------------------------------


def test_executive_summary_is_structured_and_true(cases: list[Case]) -> None:
    profile = load_profile()
    for got, labels, _ in cases:
        ex = got["executive_summary"]
        assert ex["situation"].endswith(".") and len(ex["situation"]) > 20
        assert ex["key_numbers"][0].startswith(f"Lead score {got['lead']['score']} ")
        assert (
            profile.scoring.tier_label(got["lead"]["tier"]).lower() in ex["key_numbers"][0].lower()
        )
        risks = " ".join(ex["risk_factors"])
        for comp in labels["sales.competitors"][:1]:
            assert comp.replace("_", " ") in risks
        if labels["sentiment.overall"] == "negative":
            assert "Caller sentiment negative" in ex["risk_factors"]
        assert ("Meeting booked" in ex["takeaways"]) == labels["tools.meeting_booked"]
        assert ex["next_action"].startswith(got["next_step"]["next_best_action"])
