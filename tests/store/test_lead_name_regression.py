"""The leads table names the caller, not a metric (a loop variable once shadowed the name)."""

from __future__ import annotations

import json
from pathlib import Path

from callscope.analyze import analyze_to_contract
from callscope.contract import parse_record
from callscope.profile import load_profile
from callscope.store import open_store
from callscope.store.base import ProcessedSession


def test_lead_row_keeps_participant_name(tmp_path: Path, dev_cases: list[Path]) -> None:
    raw = json.loads(dev_cases[0].read_text())["record"]
    record = parse_record(raw)
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        store.write(
            [
                ProcessedSession(
                    record=record,
                    raw=json.dumps(raw).encode(),
                    analysis=analyze_to_contract(record, load_profile()),
                )
            ]
        )
        rows = store.fetch("SELECT name, email FROM leads")
        assert rows == [{"name": raw["participant"]["name"], "email": raw["participant"]["email"]}]
    finally:
        store.close()
