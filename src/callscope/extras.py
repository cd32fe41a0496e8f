"""Which ``pip install 'callscope[...]'`` extra a missing module belongs to, said in one line.

``pip install callscope`` is the in-agent collector only; the pipeline's parts come with
extras. Code that imports an optional part does it inside :func:`needs`, which turns the
bare ``No module named 'redis'`` into a :class:`MissingExtra` naming the extra to install;
``callscope``'s command line prints any missing module that way (:func:`hint`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# Top-level module -> the extra that installs it.
EXTRA_FOR_MODULE: dict[str, str] = {
    **dict.fromkeys(
        (
            "pydantic",
            "pydantic_settings",
            "yaml",
            "typer",
            "click",
            "rich",
            "structlog",
            "duckdb",
            "tenacity",
            "prometheus_client",
            "vaderSentiment",
            "sklearn",
            "scipy",
            "numpy",
            "rapidfuzz",
            "text_to_num",
            "phonenumbers",
            "stdnum",
            "fastapi",
            "starlette",
            "uvicorn",
            "jinja2",
            "itsdangerous",
            "sse_starlette",
            "multipart",
            "python_multipart",
            "livekit",
            "google",
            "opentelemetry",
            "pyarrow",
            "sqlglot",
            "anyio",
        ),
        "server",
    ),
    "sqlalchemy": "postgres",
    "psycopg": "postgres",
    "alembic": "postgres",
    "redis": "redis",
    "boto3": "sqs",
    "botocore": "sqs",
    "simple_salesforce": "salesforce",
    "amplitude": "amplitude",
    "slack_sdk": "slack",
    "twilio": "sms",
    "anthropic": "llm",
    "openai": "llm",
}


class MissingExtra(ModuleNotFoundError):
    """An optional part is not installed; ``str()`` is the one line to show."""


def hint(exc: BaseException, what: str = "", extra: str | None = None) -> str | None:
    """The one-line message for a missing module of a known extra (or of ``extra``)."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    if isinstance(exc, MissingExtra):
        return str(exc)
    top = (exc.name or "").split(".")[0]
    extra = extra or EXTRA_FOR_MODULE.get(top)
    if extra is None:
        return None
    need = f"{what} needs" if what else "this needs"
    return (
        f"callscope: {need} the '{extra}' extra (module {top!r} is not installed): "
        f"pip install 'callscope[{extra}]'"
    )


@contextmanager
def needs(what: str, extra: str | None = None) -> Iterator[None]:
    """Import optional parts inside this: a missing module becomes a :class:`MissingExtra`
    (naming ``extra``, or the extra the module belongs to)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        line = hint(exc, what, extra)
        if line is None:
            raise
        raise MissingExtra(line, name=exc.name) from None
