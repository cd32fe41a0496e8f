"""The wire contract: SessionRecord v1 and how bytes become records."""

from callscope.contract.errors import RecordError
from callscope.contract.parse import expand_paths, iter_records, parse_record, read_path
from callscope.contract.record import MAX_RECORD_BYTES, SCHEMA_VERSION, SessionRecord

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
