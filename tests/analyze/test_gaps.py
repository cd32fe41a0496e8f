from __future__ import annotations

import pytest

from callscope.analyze.gaps import content_gaps, normalise
from callscope.profile import load_profile

TOPICS = load_profile().kb_topics


def test_similar_failed_queries_from_many_sessions_form_one_named_gap() -> None:
    pairs = [
        ("s1", "Bullhorn ATS integration"),
        ("s2", "bullhorn integration"),
        ("s3", "Bullhorn ATS integration!"),
        ("s4", "embed Figma prototype in document"),
        ("s5", "Figma embed"),
        ("s6", "HIPAA BAA signing"),
        ("s7", "hipaa compliance"),
    ]
    gaps = {g.topic: g for g in content_gaps(pairs, TOPICS)}
    assert gaps["integrations"].count == 3 and gaps["integrations"].session_count == 3
    assert gaps["integrations"].queries[0] == "bullhorn ats integration"  # most frequent
    assert "bullhorn" in gaps["integrations"].terms
    assert gaps["security_compliance"].count == 2
    figma = [g for g in gaps.values() if "figma" in g.terms]
    assert len(figma) == 1 and figma[0].count == 2 and "figma" in figma[0].topic


def test_unrelated_queries_stay_apart_without_topics() -> None:
    pairs = [
        ("a", "refund after trial cancellation"),
        ("b", "embed figma prototype"),
        ("c", "notarize documents remotely"),
    ]
    gaps = content_gaps(pairs)
    assert len(gaps) == 3 and all(g.count == 1 for g in gaps)


def test_bad_input_is_ignored_not_raised() -> None:
    assert content_gaps([]) == []
    assert content_gaps([("a", ""), ("b", "   "), ("c", "!!!")]) == []
    gaps = content_gaps([("a", "the of"), ("b", "x"), ("c", None)])  # type: ignore[list-item]
    assert sorted(g.queries[0] for g in gaps) == ["the of", "x"]


def test_min_count_and_deterministic_order() -> None:
    pairs = [("a", "zapier zap"), ("b", "zapier zap"), ("c", "stripe deposit")]
    first = [g.as_dict() for g in content_gaps(pairs, TOPICS, min_count=2)]
    assert [g["count"] for g in first] == [2]
    assert first == [g.as_dict() for g in content_gaps(list(reversed(pairs)), TOPICS, min_count=2)]


def test_normalise() -> None:
    assert normalise("  Salesforce   CPQ?? API!! ") == "salesforce cpq api"


@pytest.mark.slow
def test_many_queries_use_kmeans_path() -> None:
    pairs = [(f"s{i}", f"custom field {i % 50} mapping for object {i}") for i in range(2100)]
    gaps = content_gaps(pairs)
    assert sum(g.count for g in gaps) == 2100
