"""Store tests: real dev records, analysis built from their gold labels, every backend."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from callscope.analyze.output import contract_output
from callscope.analyze.registry import AnalysisRun, ModuleOutcome
from callscope.contract.parse import validate_record
from callscope.store import ProcessedSession, Store, open_store

DEV = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "evals" / "dev"


def analysis_from_labels(
    session_id: str, expected: dict[str, Any], version: str = "1.0.0"
) -> dict[str, Any]:
    """The contract output an analyzer run matching the gold labels would produce."""
    run = AnalysisRun(session_id)
    sections: dict[str, dict[str, Any]] = {}
    for key, value in expected.items():
        section, dot, name = key.partition(".")
        if dot:
            sections.setdefault(section, {})[name] = value
    for section, result in sections.items():
        run.modules[section] = ModuleOutcome(section, version, result)
    run.modules["summary"] = ModuleOutcome("summary", version, {"text": f"Call {session_id}."})
    return contract_output(run)


def load_dev(
    path: pathlib.Path, version: str = "1.0.0", revision: int = 1, **record_changes: Any
) -> ProcessedSession:
    raw = path.read_bytes()
    case = orjson.loads(raw)
    data = case["record"]
    data.update(record_changes)
    record = validate_record(data, str(path))
    raw_record = orjson.dumps(data)
    return ProcessedSession(
        record,
        raw_record,
        analysis_from_labels(record.session_id, case["expected"], version),
        revision=revision,
    )


@pytest.fixture(scope="session")
def dev_paths() -> list[pathlib.Path]:
    paths = sorted(DEV.glob("dev_*.json"))
    assert paths, f"no dev cases under {DEV}"
    return paths


@pytest.fixture(scope="session")
def dev_sessions(dev_paths: list[pathlib.Path]) -> list[ProcessedSession]:
    return [load_dev(p) for p in dev_paths]


@pytest.fixture(params=["duckdb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Store]:
    if request.param == "duckdb":
        s = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    else:
        url = request.getfixturevalue("postgres_url")
        s = open_store(url)
        _reset_postgres(s)
    try:
        yield s
    finally:
        s.close()


def _reset_postgres(s: Store) -> None:
    # One server for the session: every test starts from empty tables.
    from callscope.store.schema import TABLES

    s.execute("TRUNCATE " + ", ".join(t.name for t in TABLES))
