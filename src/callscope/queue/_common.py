"""Helpers shared by the queue backends (input checks, receipts)."""

from __future__ import annotations

import secrets

MAX_SESSION_ID_LEN = 512


def check_item(session_id: object, payload: object) -> None:
    """Reject bad input with a one-line ``ValueError`` before anything is written."""
    if not isinstance(session_id, str) or not session_id.strip():
        raise ValueError("queue: session_id must be a non-empty string")
    if len(session_id) > MAX_SESSION_ID_LEN:
        raise ValueError(f"queue: session_id longer than {MAX_SESSION_ID_LEN} characters")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ValueError(f"queue: payload must be bytes, got {type(payload).__name__}")


def check_lease_args(max_messages: int, visibility_timeout: float) -> None:
    if max_messages < 1:
        raise ValueError("queue: max_messages must be >= 1")
    if visibility_timeout <= 0:
        raise ValueError("queue: visibility_timeout must be > 0")


def new_token() -> str:
    return secrets.token_hex(8)
