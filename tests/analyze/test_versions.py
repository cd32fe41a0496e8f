"""Analyzer versions are derived from code and profile, and change whenever outputs can."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from callscope.analyze import codehash, registry
from callscope.profile import load_profile
from callscope.profile.model import NOT_ANALYSED
from tests.analyze import versions_golden

SRC = Path(__file__).resolve().parents[2] / "src"
ANALYZE = SRC / "callscope" / "analyze"
REFRESH = "PYTHONPATH=src:. python -m tests.analyze.versions_golden"


def test_an_output_never_changes_under_a_version_it_had() -> None:
    golden = versions_golden.load()
    stale, unknown = [], []
    for profile, modules in versions_golden.compute().items():
        for module, current in modules.items():
            ((version, digest),) = current.items()
            known = golden.get(profile, {}).get(module, {})
            if version not in known:
                unknown.append(f"{profile}/{module} {version}")
            elif known[version] != digest:
                stale.append(f"{profile}/{module} {version}")
    assert not stale, f"outputs changed but their versions did not: {stale}"
    assert not unknown, f"new analyzer versions, record them with `{REFRESH}`: {unknown}"


def _edited_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (SRC / "callscope" / "profile" / "home_services.yaml").read_text()
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_editing_a_profile_field_changes_every_version_that_reads_it(tmp_path: Path) -> None:
    before = registry.versions(load_profile("home_services"))
    edited = load_profile(_edited_copy(tmp_path, "synonyms: [", "synonyms: [crawlspace, "))
    after = registry.versions(edited)
    assert before.keys() == after.keys()
    assert all(before[n] != after[n] for n in before)
    assert all(before[n].split("+")[0] == after[n].split("+")[0] for n in before)


def test_sections_no_analyzer_reads_leave_versions_alone(tmp_path: Path) -> None:
    pattern = re.compile(r"\.(?:" + "|".join(NOT_ANALYSED) + r")\b")
    readers = [p for p in ANALYZE.rglob("*.py") if pattern.search(p.read_text())]
    assert not readers, f"analyzers read a section left out of the fingerprint: {readers}"
    path = tmp_path / "retained.yaml"
    text = (SRC / "callscope" / "profile" / "home_services.yaml").read_text()
    path.write_text(text + "\nretention:\n  transcripts_days: 7\n")
    edited = load_profile(path)
    assert edited.retention.transcripts_days == 7
    assert registry.versions(edited) == registry.versions(load_profile("home_services"))


def test_same_code_and_profile_give_the_same_versions_in_another_process() -> None:
    code = (
        "import json; from callscope.analyze import registry;"
        "from callscope.profile import load_profile;"
        "print(json.dumps(registry.versions(load_profile('home_services'))))"
    )
    env = {"PYTHONPATH": f"{SRC}:{SRC.parent}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout) == registry.versions(load_profile("home_services"))


Edit = Callable[[str, str], None]


@pytest.fixture
def edit_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edit]:
    """Pretend a module's source ends with more text; every digest cache forgets, both ways."""
    cached = codehash._source
    extra: dict[str, str] = {}

    def forget() -> None:
        for fn in (cached, codehash._code, codehash.code_digest):
            fn.cache_clear()
        registry._derived.clear()

    def edit(module: str, text: str) -> None:
        extra[module] = text
        forget()

    monkeypatch.setattr(codehash, "_source", lambda m: cached.__wrapped__(m) + extra.get(m, ""))
    yield edit
    monkeypatch.undo()
    forget()


def test_a_code_change_in_a_shared_module_changes_its_readers_and_their_dependents(
    edit_source: Edit,
) -> None:
    profile = load_profile()
    before = dict(registry.versions(profile))
    edit_source("callscope.analyze.engine.numbers", "\nMAX_COUNT = 1\n")
    after = registry.versions(profile)
    changed = {n for n in before if before[n] != after[n]}
    assert {"sales", "lead", "executive_summary"} <= changed  # reads it / reads what reads it
    assert "performance" not in changed  # imports nothing that changed


def test_a_comment_is_not_a_new_version(edit_source: Edit) -> None:
    profile = load_profile()
    before = dict(registry.versions(profile))
    edit_source("callscope.analyze.engine.numbers", "\n# why this is so\n")
    assert registry.versions(profile) == before


def test_a_data_file_the_code_names_is_part_of_its_version() -> None:
    sentiment = codehash.closure(("callscope.analyze.modules.sentiment",))
    assert [p.name for p in codehash._data_files(sentiment)] == ["sentiment_model.json"]
    assert codehash._data_files(codehash.closure(("callscope.analyze.modules.tools",))) == []


def test_a_new_lead_model_is_a_new_lead_insights_version(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = load_profile()
    before = dict(registry.versions(profile))
    monkeypatch.setenv("CALLSCOPE_LEAD_MODEL", "/nonexistent/model.json")
    after = registry.versions(profile)
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {"lead_insights", "executive_summary"}
