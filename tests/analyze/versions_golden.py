"""Each analyzer's derived version and a digest of what it outputs over the dev calls.

``tests/analyze/test_versions.py`` recomputes both and fails when a version it knows now
yields a different output: behaviour changed without a version change (the version misses
something the analyzer depends on). After a deliberate change the versions are new; record
them with

    PYTHONPATH=src:. python -m tests.analyze.versions_golden
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

from callscope.analyze import analyze_record, registry
from callscope.contract.record import SessionRecord
from callscope.profile import load_profile

HERE = pathlib.Path(__file__).parent
GOLDEN = HERE / "versions_golden.json"
SHARED_DEV = HERE.parents[1].parent / "shared" / "evals" / "dev"
# Each bundled profile with its dev calls: every analyzer runs over each set.
SETS: dict[str, tuple[pathlib.Path, str]] = {
    "pandadoc_trial": (SHARED_DEV, "dev_*.json"),
    "home_services": (HERE / "home_services" / "dev", "*.json"),
}


def _records(folder: pathlib.Path, pattern: str) -> list[SessionRecord]:
    files = sorted(folder.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no dev calls under {folder}")
    return [SessionRecord.model_validate(json.loads(f.read_text())["record"]) for f in files]


def _digest(outputs: list[Any]) -> str:
    text = json.dumps(outputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compute() -> dict[str, dict[str, dict[str, str]]]:
    """``{profile: {analyzer: {derived version: output digest}}}``."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for name, (folder, pattern) in SETS.items():
        profile = load_profile(name)
        per_module: dict[str, list[Any]] = {n: [] for n in registry.names()}
        for rec in _records(folder, pattern):
            run = analyze_record(rec, profile)
            for module, outcome in run.modules.items():
                per_module[module].append([outcome.result, outcome.error, outcome.skipped])
        versions = registry.versions(profile)
        out[name] = {m: {versions[m]: _digest(rows)} for m, rows in per_module.items()}
    return out


def load() -> dict[str, dict[str, dict[str, str]]]:
    data: dict[str, dict[str, dict[str, str]]] = json.loads(GOLDEN.read_text())
    return data


def main() -> None:
    GOLDEN.write_text(json.dumps(compute(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
