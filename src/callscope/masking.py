"""Keeping credentials out of everything callscope prints: one masking helper for all output.

Queue, store, archive and sink URLs carry passwords (``redis://:pw@host``,
``postgresql://user:pw@host/db``, ``?password=``/``?token=`` query parameters). Start lines,
error lines and log events pass through :func:`mask_text`, which replaces the secret part of
every URL it finds (and ``password=...``-style pairs) with ``***``. Backend client errors
(redis, SQLAlchemy/psycopg, botocore) become one line with :func:`error_line`, so a wrong
password or a server that is down is a sentence, not a 40-line traceback.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@  or  scheme://:password@  (the password is everything up to the
# last @ before the host: passwords may contain @ when not percent-encoded).
_URL_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^\s/]*)@"
)
# key=value pairs whose key names a secret (query strings, env dumps, DSNs).
_PAIR = re.compile(
    r"(?<![A-Za-z0-9])(?P<k>(?:[A-Za-z0-9]+_)*"
    r"(?:password|passwd|pwd|secret|token|api_?key|access_?key|signature)(?:_[A-Za-z0-9]+)*)"
    r"(?P<sep>=|%3D)(?P<v>[^\s&,;'\"]+)",
    re.IGNORECASE,
)


# scheme://token@ (userinfo without a colon): in a URL given as a URL, that is a credential.
_URL_BARE_USER = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^:/@\s]+@")


def mask_url(url: str) -> str:
    """``url`` with any password (userinfo or secret query parameter) replaced by ``***``.

    A bare ``scheme://token@host`` is masked too (``scheme://***@host``): webhook and
    collector URLs carry API tokens that way.
    """
    return mask_text(_URL_BARE_USER.sub(lambda m: f"{m['scheme']}{MASK}@", url))


def mask_text(text: str) -> str:
    """Every URL credential and ``password=value`` pair in ``text`` masked."""
    if not text:
        return text
    masked = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PAIR.sub(
        lambda m: m.group(0) if m["v"] == MASK else f"{m['k']}{m['sep']}{MASK}", masked
    )


# callscope's own wrappers of broker/warehouse failures (named, to keep this import-free).
_OWN_BACKEND_ERRORS = frozenset({"QueueUnavailable", "StoreError"})
_BACKEND_MODULES = ("redis", "sqlalchemy", "psycopg", "psycopg2", "botocore", "boto3", "duckdb")


def is_backend_error(exc: BaseException) -> bool:
    """A connection, auth or protocol failure raised by a storage or broker client library."""
    for cls in type(exc).__mro__:
        root = cls.__module__.split(".")[0]
        if root in _BACKEND_MODULES or cls.__name__ in _OWN_BACKEND_ERRORS:
            return True
    return isinstance(exc, ConnectionError | TimeoutError)


def error_line(exc: BaseException, limit: int = 300) -> str:
    """One masked line: ``<ErrorType>: <first line of the message>``."""
    text = str(exc).strip()
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = mask_text(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)
    return line if len(line) <= limit else line[: limit - 1] + "…"
