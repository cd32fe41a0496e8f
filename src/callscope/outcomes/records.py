"""Outcome records at the edge: parsing CSV / JSONL lines into validated outcomes.

One bad line fails alone with a message naming its line; the others still import.
Columns (any order, unknown ones ignored): ``session_id`` or ``email`` (one required),
``stage``, ``closed_won`` (true/false/won/lost/blank), ``amount``, ``trial_converted``,
``occurred_at`` (ISO date or timestamp), ``id`` (optional key; re-importing it replaces).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

_TRUE = {"true", "yes", "1", "won", "closed won", "closed_won", "y", "t"}
_FALSE = {"false", "no", "0", "lost", "closed lost", "closed_lost", "n", "f"}


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


class Outcome(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = None
    session_id: str | None = None
    email: str | None = None
    stage: str | None = None
    closed_won: bool | None = None
    amount: float | None = None
    trial_converted: bool | None = None
    occurred_at: datetime | None = None

    @field_validator("id", "session_id", "email", "stage", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError(f"not an email address: {value!r}")
        return value.lower() if value else None

    @field_validator("closed_won", "trial_converted", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> bool | None:
        return _flag(value)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().replace(",", "").lstrip("$€£")
            return float(text) if text else None
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        return value

    @model_validator(mode="after")
    def _who(self) -> Outcome:
        if not self.session_id and not self.email:
            raise ValueError("an outcome needs a session_id or an email")
        if self.amount is not None and self.amount < 0:
            raise ValueError("amount is negative")
        return self

    def key(self, source: str) -> str:
        """Stable id: the given ``id``, else a hash of who / stage / when within the source."""
        if self.id:
            return f"{source}:{self.id}"
        when = self.occurred_at.isoformat() if self.occurred_at else ""
        raw = "|".join([source, self.session_id or "", self.email or "", self.stage or "", when])
        return f"{source}:{hashlib.sha1(raw.encode()).hexdigest()[:16]}"

    @property
    def positive(self) -> bool:
        return bool(self.closed_won) or bool(self.trial_converted)


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


def _message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{err['msg']}" + (f" at {where}" if where else "")


def _rows(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, exc
        return
    reader = csv.DictReader(io.StringIO(text))
    for n, row in enumerate(reader, 2):  # line 1 is the header
        yield n, {k.strip().lower(): v for k, v in row.items() if k}


def parse_file(path: Path) -> tuple[list[Outcome], list[LineError]]:
    """Every valid outcome of a CSV or JSONL file, and one error per bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    good: list[Outcome] = []
    bad: list[LineError] = []
    for n, row in _rows(path, text):
        if isinstance(row, Exception):
            bad.append(LineError(n, f"not JSON: {row}"))
            continue
        if not isinstance(row, dict):
            bad.append(LineError(n, "a line must be an object"))
            continue
        try:
            good.append(Outcome.model_validate(row))
        except ValidationError as exc:
            bad.append(LineError(n, _message(exc)))
        except ValueError as exc:
            bad.append(LineError(n, str(exc)))
    return good, bad
