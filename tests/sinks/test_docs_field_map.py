"""docs/destinations.md shows the default field maps exactly as the code defines them."""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_documented_field_map_is_the_codes_default() -> None:
    spec = importlib.util.spec_from_file_location(
        "tables", ROOT / "scripts" / "destination_tables.py"
    )
    assert spec is not None and spec.loader is not None
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    doc = (ROOT / "docs" / "destinations.md").read_text(encoding="utf-8")
    start, end = doc.index(tables.START), doc.index(tables.END) + len(tables.END)
    assert doc[start:end] == tables.tables(), "run scripts/destination_tables.py, paste its output"
    # Every strategy field is in the generated table, so a removed default shows up here too.
    for name in ("Team_Size__c", "Recommended_Owner__c", "Transcript__c", "latency_measured"):
        assert f"`{name}`" in doc[start:end]
