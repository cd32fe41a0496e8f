"""The warehouse interface: what the worker hands over and what every backend offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from callscope.contract.record import SessionRecord
from callscope.contract.turns import TurnLike

if TYPE_CHECKING:
    from callscope.store.rows import Rows

Params = Sequence[Any] | Mapping[str, Any]


class StoreError(Exception):
    """A store that cannot be used (bad URL, unreachable server, bad query); one-line ``str()``."""


def _now() -> datetime:
    return datetime.now(UTC)


class TurnsView(Protocol):
    """What the store reads of an already built view (``callscope.analyze.CallView``)."""

    @property
    def record(self) -> SessionRecord: ...

    @property
    def turns(self) -> Sequence[TurnLike]: ...


@dataclass(frozen=True)
class ProcessedSession:
    """One analysed call, ready for the warehouse."""

    record: SessionRecord
    raw: bytes  # the original payload bytes as received
    analysis: dict[str, Any]  # callscope.analyze.output.contract_output(run)
    revision: int = 1
    processed_at: datetime = field(default_factory=_now)
    # The view the analyzers already built from ``record``; the store reuses its turns.
    view: TurnsView | None = field(default=None, compare=False, repr=False)
    profile: str | None = None  # the profile that analysed it (the ``signals`` table says so)

    @property
    def session_id(self) -> str:
        return self.record.session_id


@dataclass(frozen=True)
class AlertRecord:
    """One fired alert for :meth:`Store.write_alerts`."""

    rule: str
    message: str
    severity: str = "info"
    session_id: str | None = None
    channel: str | None = None
    payload: Mapping[str, Any] | None = None
    fired_at: datetime | None = None
    alert_id: str | None = None


@dataclass(frozen=True)
class Deletion:
    """What a delete removed: the sessions and the row count per table."""

    session_ids: tuple[str, ...]
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@runtime_checkable
class Store(Protocol):
    """A warehouse backend (DuckDB or PostgreSQL).

    SQL given to :meth:`fetch` / :meth:`execute` is portable: write placeholders as ``?``
    (positional) or ``:name`` (named, with a mapping); the backend translates them.
    """

    url: str

    def migrate(self) -> None: ...

    def write(self, batch: Sequence[ProcessedSession]) -> None: ...

    def write_rows(self, rows: Rows) -> None:
        """Write rows built by :func:`callscope.store.rows.build_rows` (one revision each)."""
        ...

    def session_ids(self) -> set[str]: ...

    def query(self, name: str, params: Params = ()) -> list[dict[str, Any]]:
        """A named query (``callscope.store.sql.QUERIES``)."""
        ...

    def analyzer_versions(self) -> dict[str, Any]: ...

    def count(self, table: str) -> int: ...

    def get_session(self, session_id: str) -> dict[str, Any] | None: ...

    def write_alert(
        self,
        rule: str,
        message: str,
        *,
        severity: str = "info",
        session_id: str | None = None,
        channel: str | None = None,
        payload: Mapping[str, Any] | None = None,
        fired_at: datetime | None = None,
        alert_id: str | None = None,
    ) -> str: ...

    def write_alerts(self, alerts: Sequence[AlertRecord]) -> list[str]: ...

    def delete_session(self, session_id: str) -> Deletion: ...

    def delete_participant(self, who: str) -> Deletion: ...

    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def execute(self, sql: str, params: Params = ()) -> int: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...
