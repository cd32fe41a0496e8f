"""The ASR-noise transformer: raw-STT caller turns, deterministic, labels and agent untouched."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from callscope.cli import _load, app
from callscope.devtools.asr_noise import (
    NoiseConfig,
    brand_splits,
    noisy_case,
    noisy_text,
    numbers_to_words,
    spell_int,
)

DEV = Path("/work/shared/evals/dev")
QUIET = NoiseConfig(filler_rate=0.0, restart_rate=0.0, split_rate=1.0)


def test_numbers_spoken_as_words() -> None:
    rng = random.Random(0)
    assert spell_int(1234) == "one thousand two hundred thirty four"
    assert numbers_to_words("about 12 people", rng) == "about twelve people"
    assert (
        numbers_to_words("call 614-555-0182", rng)
        == "call six one four five five five zero one eight two"
    )
    assert numbers_to_words("15% off", rng) == "fifteen percent off"
    assert numbers_to_words("since 2024", rng) == "since twenty twenty four"
    assert "dollars" in numbers_to_words("$89", rng)


def test_brand_names_split_only_where_both_halves_are_words() -> None:
    splits = brand_splits(["docusign", "hubspot", "roto rooter", "contracts", "signature"])
    assert splits == {"docusign": "docu sign", "hubspot": "hub spot"}


def test_turn_is_lower_case_unpunctuated_and_split() -> None:
    out = noisy_text(
        "We use DocuSign, about 12 of us.", random.Random(1), {"docusign": "docu sign"}, QUIET
    )
    assert out == "we use docu sign about twelve of us"


def test_fillers_and_restarts_inserted() -> None:
    cfg = NoiseConfig(filler_rate=1.0, restart_rate=1.0)
    out = noisy_text("we have a leak in the basement", random.Random(3), {}, cfg)
    assert len(out.split()) > 7


def test_case_deterministic_by_seed_agent_and_labels_kept() -> None:
    case = json.loads((DEV / "dev_001.json").read_text())
    a, b = noisy_case(case, ["docusign"], seed=7), noisy_case(case, ["docusign"], seed=7)
    c = noisy_case(case, ["docusign"], seed=8)
    assert a == b and a != c
    assert a["expected"] == {**case["expected"], "pii": a["expected"]["pii"]}
    items = zip(
        case["record"]["transcript"]["items"], a["record"]["transcript"]["items"], strict=True
    )
    for before, after in items:
        if before.get("role") == "assistant":
            assert before == after
        elif before.get("role") == "user":
            text = " ".join(after["content"])
            assert text == text.lower() and "," not in text and "." not in text


def test_noisify_command_writes_a_set(tmp_path: Path) -> None:
    _load()
    res = CliRunner().invoke(app, ["noisify", str(DEV), str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "out").glob("*.json"))) == 24
    bad = CliRunner().invoke(app, ["noisify", str(tmp_path / "nope"), str(tmp_path / "x")])
    assert bad.exit_code == 2 and "not a directory" in " ".join(bad.output.split())
