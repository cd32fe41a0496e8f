from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from callscope.governance.audit import AuditLog
from callscope.governance.clock import Clock
from callscope.governance.forget import forget
from callscope.governance.retention import run_retention
from callscope.profile.model import ProfileError, Retention, load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store
from callscope.store.archive import open_archive
from callscope.store.raw import open_raw
from tests.governance.conftest import DEV
from tests.governance.helpers import grep_objects
from tests.store.conftest import load_dev

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def _load(store: Store, ages_days: dict[str, int]) -> None:
    batch = []
    for name, age in ages_days.items():
        start = NOW - timedelta(days=age)
        batch.append(
            load_dev(
                DEV / f"{name}.json",
                started_at=start.isoformat(),
                ended_at=(start + timedelta(minutes=5)).isoformat(),
            )
        )
    store.write(batch)


def _dump(store: Store) -> str:
    from callscope.store.schema import TABLES

    rows = {t.name: store.fetch(f"SELECT * FROM {t.name}") for t in TABLES}
    return json.dumps(rows, default=str).lower()


def test_retention_dry_run_then_run(gov_store: Store, tmp_path: Path) -> None:
    _load(gov_store, {"dev_001": 10, "dev_010": 45, "dev_013": 120, "dev_002": 400})
    audit = AuditLog(tmp_path / "audit.jsonl")
    before = _dump(gov_store)
    dry = run_retention(
        gov_store,
        Retention(),
        archive=None,
        audit=audit,
        clock=Clock.fixed(NOW),
        dry_run=True,
    )
    assert _dump(gov_store) == before
    assert not (tmp_path / "archive").exists()
    assert dry.redacted_turns > 0 and len(dry.archived_sessions) == 2
    assert any("would" in line for line in dry.lines())

    archive = open_archive(str(tmp_path / "archive"))
    report = run_retention(
        gov_store,
        Retention(),
        archive=archive,
        audit=audit,
        clock=Clock.fixed(NOW),
    )
    # the 45-day-old call keeps its transcript, with PII gone
    texts = " ".join(
        r["text"] or ""
        for r in gov_store.fetch(
            "SELECT text FROM transcripts WHERE session_id = ?",
            [load_dev(DEV / "dev_010.json").session_id],
        )
    )
    assert texts and "lone star shield dot com" not in texts and "[REDACTED_" in texts
    # the 10-day-old call is untouched
    fresh = " ".join(
        r["text"] or ""
        for r in gov_store.fetch(
            "SELECT text FROM transcripts WHERE session_id = ?",
            [load_dev(DEV / "dev_001.json").session_id],
        )
    )
    assert "marisol at hill country homes dot com" in fresh
    # calls older than 90 days: transcripts archived (redacted) and gone from the warehouse
    old_ids = [load_dev(DEV / f"{n}.json").session_id for n in ("dev_013", "dev_002")]
    assert report.archived_sessions == sorted(old_ids)
    for sid in old_ids:
        assert (
            gov_store.fetch("SELECT COUNT(*) AS n FROM transcripts WHERE session_id = ?", [sid])[0][
                "n"
            ]
            == 0
        )
    files = sorted((tmp_path / "archive").rglob("*.parquet"))
    assert files and all("date=" in str(f) for f in files)
    archived = [r for f in files for r in pq.read_table(f).to_pylist()]
    assert len(archived) == report.archived_rows == archive.read("transcripts").num_rows
    assert "six oh two, five five five" not in json.dumps(archived, default=str)
    # every transcript column survives the move, typed as in the warehouse
    assert {"confidence", "llm_ttft_ms", "call_started_at"} <= set(archived[0])
    # audited, and a second run has nothing left to do
    again = run_retention(
        gov_store,
        Retention(),
        archive=archive,
        audit=audit,
        clock=Clock.fixed(NOW),
    )
    assert (again.redacted_turns, again.archived_rows, again.metric_rows) == (0, 0, 0)
    actions = [e["action"] for e in audit.entries()]
    assert actions == ["retention.dry_run", "retention.run", "retention.run"]
    assert audit.verify().ok


def test_metrics_older_than_a_year_become_daily_aggregates(
    gov_store: Store, tmp_path: Path
) -> None:
    _load(gov_store, {"dev_001": 10, "dev_002": 20})
    total = gov_store.count("metrics")
    assert total > 0
    # metric timestamps are LiveKit's own (the calls' real dates, autumn 2026)
    later = Clock.fixed(datetime(2028, 6, 1, tzinfo=UTC))
    audit = AuditLog(tmp_path / "audit.jsonl")
    report = run_retention(
        gov_store,
        Retention(),
        archive=open_archive(str(tmp_path / "archive")),
        audit=audit,
        clock=later,
    )
    assert report.metric_rows == total and report.metric_days >= 1
    assert gov_store.count("metrics") == 0
    daily = gov_store.fetch("SELECT SUM(n) AS n, COUNT(*) AS k FROM metrics_daily")
    assert int(daily[0]["n"]) == total and int(daily[0]["k"]) < total
    keep = run_retention(
        gov_store,
        Retention(metrics_days=2000),
        archive=open_archive(str(tmp_path / "a2")),
        audit=audit,
        clock=later,
    )
    assert keep.metric_rows == 0


def test_unknown_retention_key_fails_at_load(tmp_path: Path) -> None:
    import yaml

    src = Path(__file__).resolve().parents[2] / "src/callscope/profile/pandadoc_trial.yaml"
    data = yaml.safe_load(src.read_text())
    data["retention"] = {"transcripts_days": 90, "transcript_days": 30}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ProfileError, match="transcript_days"):
        load_profile(str(bad))


def _grep_everywhere(
    store: Store, raw: Path, archive: Path, queue_path: Path, needle: str
) -> list[str]:
    hits = []
    if needle.lower() in _dump(store):
        hits.append("store")
    hits += grep_objects(open_raw(str(raw)).objects, needle)
    hits += grep_objects(open_archive(str(archive)).objects, needle)
    con = sqlite3.connect(queue_path)
    for (payload,) in con.execute("SELECT payload FROM messages"):
        if payload and needle.lower().encode() in bytes(payload).lower():
            hits.append("queue")
    con.close()
    return hits


def test_forget_leaves_no_trace(gov_store: Store, tmp_path: Path) -> None:
    email = "kholloway@peachtreefamilycare.org"  # dev_007's booked-meeting email
    _load(gov_store, {"dev_007": 120, "dev_001": 5, "dev_003": 100})
    raw, archive = tmp_path / "raw", tmp_path / "archive"
    raw_store, archive_store = open_raw(str(raw)), open_archive(str(archive))
    for name in ("dev_007", "dev_001"):
        rec = json.loads((DEV / f"{name}.json").read_text())["record"]
        raw_store.put(rec["session_id"], 1, NOW, json.dumps(rec).encode())
        raw_store.put(rec["session_id"], 2, NOW - timedelta(days=1), json.dumps(rec).encode())
    audit = AuditLog(tmp_path / "audit.jsonl")
    # the old calls' transcripts go to the archive first (archived text is redacted, but
    # the tool-call rows and lead email stay in the warehouse and must go too)
    run_retention(
        gov_store, Retention(), archive=archive_store, audit=audit, clock=Clock.fixed(NOW)
    )
    archived_before = archive_store.read("transcripts").num_rows
    # a queued, not yet processed re-send mentioning the same person
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    queue.enqueue("late-call", json.dumps({"participant": {"email": email.upper()}}).encode())
    queue.enqueue("other-call", b'{"participant": {"email": "someone@else.com"}}')
    assert _grep_everywhere(gov_store, raw, archive, tmp_path / "q.sqlite3", email)

    outbox = tmp_path / "outbox.jsonl"
    report = forget(
        email,
        store=gov_store,
        raw=raw_store,
        archive=archive_store,
        queue=queue,
        outbox=outbox,
        audit=audit,
        clock=Clock.fixed(NOW),
    )
    assert report.session_ids == [load_dev(DEV / "dev_007.json").session_id]
    assert len(report.raw_files) == 2 and report.queue_messages == ["late-call"]
    # the archived (redacted) turns are found by session id, and only they go
    assert 0 < report.archive_rows < archived_before
    assert archive_store.read("transcripts").num_rows == archived_before - report.archive_rows
    assert _grep_everywhere(gov_store, raw, archive, tmp_path / "q.sqlite3", email) == []
    # other people are still there
    assert load_dev(DEV / "dev_001.json").session_id in gov_store.session_ids()
    assert [o.session_id for o in raw_store.iter()] == [
        load_dev(DEV / "dev_001.json").session_id
    ] * 2
    assert queue.stats().ready == 1
    # outbox owes the destinations one deletion; the audit log names only a hash
    pending = [json.loads(x) for x in outbox.read_text().splitlines()]
    assert len(pending) == 1 and pending[0]["status"] == "pending"
    assert email not in (tmp_path / "audit.jsonl").read_text().lower()
    # idempotent
    again = forget(
        email,
        store=gov_store,
        raw=raw_store,
        archive=archive_store,
        queue=queue,
        outbox=outbox,
        audit=audit,
        clock=Clock.fixed(NOW),
    )
    assert not again.removed_anything and again.outbox_entries == 0
    assert len(outbox.read_text().splitlines()) == 1
    assert audit.verify().ok
    queue.close()


def _cli(tmp_path: Path, args: list[str], **env: str) -> tuple[int, str]:
    from callscope.cli import _load, app

    _load()
    result = CliRunner().invoke(app, args, env={"CALLSCOPE_DATA_DIR": str(tmp_path), **env})
    return result.exit_code, result.output


def test_bad_database_url_clear_error_nothing_written(tmp_path: Path) -> None:
    code, output = _cli(
        tmp_path, ["retention", "run"], CALLSCOPE_STORE_URL="postgresql://nobody@127.0.0.1:1/none"
    )
    assert code == 2 and "error" in output.lower()
    assert len(output.strip().splitlines()) <= 2
    assert not (tmp_path / "audit").exists() and not (tmp_path / "archive").exists()
    code, output = _cli(
        tmp_path, ["forget", "--email", "a@b.com"], CALLSCOPE_STORE_URL="mysql://x/y"
    )
    assert code == 2 and "unsupported" in output


def test_unusable_s3_archive_clear_error_before_anything_written(
    tmp_path: Path, moto_endpoint: str
) -> None:
    env = {"CALLSCOPE_ARCHIVE_URL": "s3://no-such-bucket/archive",
           "CALLSCOPE_S3_ENDPOINT_URL": moto_endpoint}  # fmt: skip
    code, output = _cli(tmp_path, ["retention", "run"], **env)
    assert code == 2 and "archive s3://no-such-bucket/archive" in output
    assert "nothing was changed" in output and len(output.strip().splitlines()) <= 2
    assert not (tmp_path / "audit").exists()
    code, output = _cli(tmp_path, ["forget", "--email", "a@b.com"], **env)
    assert code == 2 and "no-such-bucket" in output
    assert not (tmp_path / "audit").exists()


def test_forget_usage_errors(tmp_path: Path) -> None:
    code, output = _cli(tmp_path, ["forget"])
    assert code == 2 and "--email, --phone and/or --participant" in output
    # Identifiers combine: one person known by email, phone and identity at once.
    code, output = _cli(
        tmp_path,
        ["forget", "--email", "a@b.com", "--phone", "+1 415 555 0199", "--participant", "p"],
    )
    assert code == 0, output


def test_cli_retention_and_forget_end_to_end(tmp_path: Path) -> None:
    code, output = _cli(tmp_path, ["retention", "run", "--dry-run"])
    assert code == 0 and "nothing to retain" in output, output
    code, output = _cli(tmp_path, ["retention", "run"])
    assert code == 0 and "applied" in output, output
    code, output = _cli(tmp_path, ["retention", "run", "--dry-run"])
    assert code == 0 and "dry run" in output, output
    code, output = _cli(tmp_path, ["forget", "--email", "nobody@example.com"])
    assert code == 0, output
    assert "nothing left to remove" in output
    code, output = _cli(tmp_path, ["audit", "verify"])
    assert code == 0 and "3 entries" in output, output
