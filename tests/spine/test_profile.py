"""Profiles: the bundled default loads; a broken profile fails at start with a clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from callscope.profile import ProfileError, load_profile

DEFAULT = Path(__file__).resolve().parents[2] / "src/callscope/profile/pandadoc_trial.yaml"
VOCAB = Path(__file__).resolve().parents[3] / "shared" / "contract" / "vocabulary.md"


def test_default_profile_holds_the_contract_vocabulary() -> None:
    p = load_profile("pandadoc_trial")
    text = VOCAB.read_text()
    for ids in (
        p.signals.integrations,
        p.signals.competitors,
        p.signals.objections,
        p.signals.budget_authority,
        p.signals.timeline,
    ):
        for signal_id in ids:
            assert f"`{signal_id}`" in text, signal_id
    assert p.scoring.max_points == 95
    assert p.scoring.tier_for(60) == "tier_1"
    assert p.scoring.tier_for(59) == "tier_2"
    assert p.scoring.tier_for(29) == "unqualified"
    assert p.tools.knowledge_search == "unleash_search_knowledge"
    assert p.thresholds.e2e_latency_ms == 1500


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(_write(tmp_path, "name: [unclosed"))


def test_unknown_key_is_named(tmp_path: Path) -> None:
    base = yaml.safe_load(DEFAULT.read_text())
    base["retention"]["forever_days"] = 1
    with pytest.raises(ProfileError) as exc:
        load_profile(_write(tmp_path, base))
    assert "retention.forever_days" in str(exc.value)


def test_scoring_must_name_defined_ids(tmp_path: Path) -> None:
    base = yaml.safe_load(DEFAULT.read_text())
    base["scoring"]["points"]["integrations"]["myspace"] = 5
    with pytest.raises(ProfileError, match="myspace"):
        load_profile(_write(tmp_path, base))


def test_missing_file() -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_profile("/nonexistent/profile.yaml")
