"""Analyze many record files fast: files and large JSON Lines chunks spread over processes.

Order is kept (results come back in input order), and bad records come back as one-line
errors in place, so ``callscope analyze`` prints the same output whatever ``--jobs`` is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson

from callscope.analyze import analyze_to_contract
from callscope.contract.errors import RecordError
from callscope.contract.parse import iter_records, read_path
from callscope.profile.model import Profile, load_profile

CHUNK_LINES = 500
_SPLIT_ABOVE_BYTES = 1 << 20


@dataclass(frozen=True)
class Unit:
    path: str
    first_line: int = 0  # > 0: a chunk of JSON Lines starting at this line
    data: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    result: dict[str, object] | None
    error: str | None
    source: str = ""


def plan(paths: list[Path]) -> list[Unit]:
    units: list[Unit] = []
    for path in paths:
        name = str(path)
        try:
            big = path.stat().st_size > _SPLIT_ABOVE_BYTES
        except OSError:
            big = False
        if big and path.suffix in (".jsonl", ".ndjson"):
            lines = path.read_bytes().splitlines(keepends=True)
            for start in range(0, len(lines), CHUNK_LINES):
                units.append(Unit(name, start + 1, b"".join(lines[start : start + CHUNK_LINES])))
        else:
            units.append(Unit(name))
    return units


def run_unit(unit: Unit, profile: Profile) -> list[Outcome]:
    # A chunk of JSON Lines was read by ``plan``; a whole file is read here, in the worker.
    items = read_path(Path(unit.path)) if unit.data is None else iter_records(unit.data, unit.path)
    out: list[Outcome] = []
    for item in items:
        if isinstance(item, RecordError):
            if unit.first_line > 1 and ":" in item.source:
                # Line numbers inside a chunk are relative to the chunk.
                base, _, line = item.source.rpartition(":")
                if line.isdigit():
                    item.source = f"{base}:{int(line) + unit.first_line - 1}"
            out.append(Outcome(None, str(item), unit.path))
        else:
            out.append(Outcome(analyze_to_contract(item, profile), None, unit.path))
    return out


_PROFILE: Profile | None = None


def _init(profile_source: str | None) -> None:
    global _PROFILE
    _PROFILE = load_profile(profile_source)


def _run_in_pool(unit: Unit) -> bytes:
    assert _PROFILE is not None
    # Results cross the process boundary as JSON bytes: cheaper to pickle than dicts.
    return orjson.dumps([[o.result, o.error, o.source] for o in run_unit(unit, _PROFILE)])


def analyze_paths(
    paths: list[Path], profile: Profile, *, profile_source: str | None = None, jobs: int = 1
) -> Iterator[Outcome]:
    units = plan(paths)
    jobs = max(1, min(jobs, len(units)))
    if jobs == 1:
        for unit in units:
            yield from run_unit(unit, profile)
        return
    with ProcessPoolExecutor(jobs, initializer=_init, initargs=(profile_source,)) as pool:
        for blob in pool.map(_run_in_pool, units):
            for result, error, source in orjson.loads(blob):
                yield Outcome(result, error, source)


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
