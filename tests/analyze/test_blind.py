"""Floors on the once-blind sets: 30 calls each, written and labeled without reading the analyzers.

The sets (``blind/``, ``blind3/``, ``blind4/``, ``blind5/``, built from their ``*_specs/``
with shared/evals/build.py) were blind when first scored. The analyzers were then improved
against their misses (with each rule also tested on sentences outside the set), so **none of
them is blind any more** (tests/analyze/README.md): a score reached after tuning on a set says
little about calls never seen. The floors are therefore the level each set measured when it was
first scored, before any fitting, rounded down to 0.05: they catch a real regression without
pinning the tuned score (the comments give both figures). Fields that follow from the record's
tool results and flags are exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.eval import Report, evaluate
from callscope.profile import load_profile

BLIND = Path(__file__).parent / "blind"


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(BLIND, load_profile())


def test_blind_set_is_complete(report: Report) -> None:
    assert report.n == 30


def test_signal_micro_f1_floor(report: Report) -> None:
    # measured 0.883 (P 0.92, R 0.85) when the set was written; 1.000 after the structural
    # fixes in test_sales_structure.py (each rule tested on sentences outside this set)
    assert report.micro.f1 >= 0.85, [m.line() for m in report.misses]


def test_tier_accuracy_floor(report: Report) -> None:
    # measured 0.83 (25/30) when written; 1.00 (30/30) after the structural fixes
    assert report.acc("lead.tier") >= 0.80, report.tier_confusion


@pytest.mark.parametrize(
    "key", ["tools.meeting_booked", "quality.interruptions", "tools.kb_failed_searches"]
)
def test_record_derived_fields_exact(report: Report, key: str) -> None:
    # these follow from tool results and interrupted flags, so every case must match
    assert report.acc(key) == 1.0, [m.line() for m in report.misses if m.field == key]


BLIND3 = Path(__file__).parent / "blind3"


@pytest.fixture(scope="module")
def report3() -> Report:
    return evaluate(BLIND3, load_profile())


def test_blind3_set_is_complete(report3: Report) -> None:
    assert report3.n == 30


def test_blind3_signal_micro_f1_floor(report3: Report) -> None:
    # measured 0.925 (P 0.96, R 0.89) when first scored; 0.952 (P 0.97, R 0.93) after the
    # phrasing families in test_sales_blind3_families.py (remaining misses: objections,
    # industry, use_case, one team/volume pair)
    assert report3.micro.f1 >= 0.90, [m.line() for m in report3.misses]


def test_blind3_tier_accuracy_floor(report3: Report) -> None:
    # measured 0.87 (26/30) when first scored; 1.00 (30/30) after the authority, timeline and
    # volume families
    assert report3.acc("lead.tier") >= 0.85, report3.tier_confusion


BLIND4 = Path(__file__).parent / "blind4"


@pytest.fixture(scope="module")
def report4() -> Report:
    return evaluate(BLIND4, load_profile())


def test_blind4_set_is_complete(report4: Report) -> None:
    assert report4.n == 30


def test_blind4_signal_micro_f1_floor(report4: Report) -> None:
    # measured 0.901 (P 0.91, R 0.89) when first scored; 0.932 (P 0.95, R 0.92) after the
    # timeline, integration and objection families in test_sales_blind4_families.py
    # (remaining misses: mostly unmet-feature objections, plus labels marked uncertain)
    assert report4.micro.f1 >= 0.90, [m.line() for m in report4.misses]


def test_blind4_tier_accuracy_floor(report4: Report) -> None:
    # measured 0.93 (28/30) when first scored; 0.97 (29/30) after the timeline families
    assert report4.acc("lead.tier") >= 0.90, report4.tier_confusion


BLIND5 = Path(__file__).parent / "blind5"


@pytest.fixture(scope="module")
def report5() -> Report:
    return evaluate(BLIND5, load_profile())


def test_blind5_set_is_complete(report5: Report) -> None:
    assert report5.n == 30


def test_blind5_signal_micro_f1_floor(report5: Report) -> None:
    # measured 0.920 when first scored; 0.950 (P 0.96, R 0.94) after the families in
    # test_sales_blind5_families.py (remaining misses: mostly labels marked uncertain)
    assert report5.micro.f1 >= 0.90, [m.line() for m in report5.misses]


def test_blind5_tier_accuracy_floor(report5: Report) -> None:
    # measured 0.93 (28/30) when first scored; 1.00 after the move-onto-a-CRM, comma-range
    # and total-then-members families
    assert report5.acc("lead.tier") >= 0.90, report5.tier_confusion


def test_blind5_ending_sentiment_clarification_floors(report5: Report) -> None:
    # measured ending 0.90 -> 1.00 (a returned farewell), sentiment 0.87, clarification
    # 0.90 -> 0.93 (an unnamed "didn't follow")
    assert report5.acc("quality.natural_ending") >= 0.90, [m.line() for m in report5.misses]
    assert report5.acc("sentiment.overall") >= 0.85, [m.line() for m in report5.misses]
    assert report5.acc("quality.clarification_requests") >= 0.90, [m.line() for m in report5.misses]
