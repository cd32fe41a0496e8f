from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from callscope.governance.redact import Kind, redact, redact_record, redact_text
from tests.governance.conftest import DEV
from tests.governance.pii_corpus import clean_samples, dev_texts, pii_samples


def _covered(text: str, start: int, end: int) -> bool:
    spans = redact(text).spans
    return all(
        any(s.start <= i < s.end for s in spans)
        for i in range(start, end)
        if not text[i].isspace() and text[i] not in ",."
    )


def test_every_dev_label_is_redacted() -> None:
    labeled, _ = dev_texts(DEV)
    assert labeled
    for text, labels in labeled:
        out = redact_text(text)
        for label in labels:
            assert label not in out, (label, out)
            assert _covered(text, text.index(label), text.index(label) + len(label)), label


def test_dev_caller_text_without_pii_is_left_alone() -> None:
    _, clean = dev_texts(DEV)
    touched = [(t, redact(t).spans) for t in clean if redact(t).spans]
    assert len(clean) > 300
    assert not touched, touched[:3]


def test_faker_corpus_recall_and_clean_rate() -> None:
    samples = pii_samples(per_kind_locale=6, seed=5)
    hits = sum(_covered(s.text, s.start, s.end) for s in samples)
    assert hits / len(samples) >= 0.99, hits / len(samples)
    clean = clean_samples(200, seed=5)
    untouched = sum(not redact(s.text).spans for s in clean)
    assert untouched / len(clean) >= 0.95


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me at john dot smith at gmail dot com", Kind.EMAIL),
        ("it's four one five, five five five, oh one nine nine", Kind.PHONE),
        ("Oh seven seven double oh, nine double oh, one two three", Kind.PHONE),
        ("call +44 20 7946 0958 tomorrow", Kind.PHONE),
        (
            "my card is four one one one, one one one one, one one one one, one one one one",
            Kind.CARD,
        ),
        ("card 4111-1111-1111-1111 exp 09/29", Kind.CARD),
        ("SSN 536-22-8726", Kind.SSN),
        ("IBAN DE89 3704 0044 0532 0130 00 please", Kind.IBAN),
        ("we are at one two three main street", Kind.ADDRESS),
        ("Hauptstraße 5, 10115 Berlin", Kind.ADDRESS),
        ("12 bis rue de la Paix, 75002 Paris", Kind.ADDRESS),
    ],
)
def test_kinds(text: str, kind: Kind) -> None:
    result = redact(text)
    assert [s.kind for s in result.spans] == [kind], result
    assert f"[REDACTED_{kind.value}]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "We have twenty six agents and do fifteen a day.",
        "Card 4111 1111 1111 1112 failed",  # not Luhn-valid
        "IBAN DE89 3704 0044 0532 0130 01",  # bad checksum
        "the plan is $1,499 a year, starting 2026-10-15 at 14:30",
        "version 3.12.4, ticket number 741-1847",
        "I'm good at it, look at the dot com era",
        "we drove twenty miles down the road",
        "Let's meet at eight Mountain time.",
    ],
)
def test_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_redact_record_covers_transcript_and_tools() -> None:
    case = json.loads((DEV / "dev_001.json").read_text())
    record = case["record"]
    out = redact_record(record)
    blob = json.dumps({k: v for k, v in out.items() if k != "participant"})
    assert "marisol@hillcountryhomes.com" not in blob
    assert "hill country homes dot com" not in blob
    assert out["session_id"] == record["session_id"]
    assert out["participant"] == record["participant"]
    # function_call arguments stay a JSON string
    for item in out["transcript"]["items"]:
        if item["type"] == "function_call":
            json.loads(item["arguments"])
    assert record != out  # the input was not modified in place...
    assert "marisol@hillcountryhomes.com" in json.dumps(record)  # ...and still holds the PII


def test_cli_redact_stdin_to_stdout() -> None:
    from callscope.cli import _load, app

    _load()
    result = CliRunner().invoke(app, ["redact"], input="mail a.b@example.org\nno pii here\n")
    assert result.exit_code == 0
    assert result.stdout == "mail [REDACTED_EMAIL]\nno pii here\n"
