"""The wire contract: SessionRecord v1 and how bytes become records.

The names below load on first use: the in-agent collector imports
:mod:`callscope.contract.session_report` (plain dicts) from a base install, which has no
pydantic, so importing this package must not pull in the validating model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callscope.contract.errors import RecordError
    from callscope.contract.parse import expand_paths, iter_records, parse_record, read_path
    from callscope.contract.record import MAX_RECORD_BYTES, SCHEMA_VERSION, SessionRecord

_WHERE = {
    "RecordError": "callscope.contract.errors",
    "expand_paths": "callscope.contract.parse",
    "iter_records": "callscope.contract.parse",
    "parse_record": "callscope.contract.parse",
    "read_path": "callscope.contract.parse",
    "MAX_RECORD_BYTES": "callscope.contract.record",
    "SCHEMA_VERSION": "callscope.contract.record",
    "SessionRecord": "callscope.contract.record",
}

__all__ = [
    "MAX_RECORD_BYTES",
    "SCHEMA_VERSION",
    "RecordError",
    "SessionRecord",
    "expand_paths",
    "iter_records",
    "parse_record",
    "read_path",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'callscope.contract' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
