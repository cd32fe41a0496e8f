"""`analyze --format table` takes its signal columns from the profile, for every profile."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from callscope.analyze import analyze_to_contract
from callscope.cli.analysis_table import analysis_table
from callscope.contract.parse import validate_record
from callscope.generate import generate_record
from callscope.profile.model import Profile, load_profile
from tests.conftest import DEV_SET


def _render(rows: list[dict[str, object]], profile: Profile) -> str:
    buf = io.StringIO()
    Console(file=buf, width=400, color_system=None).print(analysis_table(rows, profile))
    return buf.getvalue()


def test_default_profile_columns_and_labels_on_dev_calls() -> None:
    profile = load_profile()
    rows = []
    for path in sorted(Path(DEV_SET).glob("dev_00*.json"))[:6]:
        rec = validate_record(json.loads(path.read_text())["record"], path.name)
        rows.append(analyze_to_contract(rec, profile))
    text = _render(rows, profile)
    header = text.splitlines()[2]
    assert profile.field_label("team_size") in header
    assert profile.field_label("integrations") in header
    for row in rows:
        assert str(row["session_id"]) in text
        lead = row["lead"]
        assert isinstance(lead, dict)
        assert profile.scoring.tier_label(lead["tier"]) in text


def test_another_business_gets_its_own_columns() -> None:
    profile = load_profile("home_services")
    rows = []
    for i in range(12):
        data = generate_record(i, seed=3, profile=profile)
        rows.append(analyze_to_contract(validate_record(data, f"hs-{i}"), profile))
    text = _render(rows, profile)
    header = text.splitlines()[2]
    assert profile.field_label("service_type") in header
    assert profile.field_label("urgency") in header
    assert "Team size" not in header and "Integrations" not in header
    shown = {
        profile.value_label("service_type", r["signals"]["service_type"])  # type: ignore[index]
        for r in rows
        if r["signals"].get("service_type")  # type: ignore[union-attr]
    }
    assert shown and all(label in text for label in shown)


def test_cli_table_for_another_profile(tmp_path: Path) -> None:
    from tests.spine.test_cli import run

    profile = load_profile("home_services")
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        "\n".join(json.dumps(generate_record(i, seed=5, profile=profile)) for i in range(5))
    )
    proc = run("--profile", "home_services", "analyze", str(calls), "--format", "table")
    assert proc.returncode == 0, proc.stderr
    assert "Service" in proc.stdout and "Urgency" in proc.stdout
    assert "Team" not in proc.stdout
