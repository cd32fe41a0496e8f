"""The ``callscope`` command line. Each area registers its commands from its own module.

The commands need the ``server`` extra (typer, the warehouse...). This package imports none of
it until a command runs, so that on a collector-only install ``callscope`` says, in one line,
which extra to install instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from callscope.extras import hint

if TYPE_CHECKING:
    import typer

    app: typer.Typer

_APP: list[Any] = []


def _typer_app() -> typer.Typer:
    if not _APP:
        import typer

        _APP.append(
            typer.Typer(
                name="callscope",
                help="Analytics pipeline for LiveKit voice agents.",
                no_args_is_help=True,
                pretty_exceptions_enable=False,
                add_completion=False,
            )
        )
    made: typer.Typer = _APP[0]
    return made


def __getattr__(name: str) -> Any:
    if name == "app":
        return _typer_app()
    raise AttributeError(f"module 'callscope.cli' has no attribute {name!r}")


# Modules under callscope.cli that define ``register(app)``; one per area of the pipeline.
COMMAND_MODULES: list[str] = [
    "core",
    "serve_cmds",
    "queue_cmds",
    "governance_cmds",
    "store_cmds",
    "eval_cmds",
    "sinks_cmds",
    "dashboard_cmds",
    "llm_cmds",
    "outcomes_cmds",
    "scorer_cmds",
    "alerts_cmds",
]


def _load() -> None:
    app = _typer_app()
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"callscope.cli.{name}")
        module.register(app)


def main() -> None:
    try:
        _load()
        _typer_app()()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except ModuleNotFoundError as exc:
        line = hint(exc)
        if line is None:
            raise
        sys.stderr.write(line + "\n")
        raise SystemExit(2) from None
    except Exception as exc:
        from callscope.masking import error_line, is_backend_error

        if not is_backend_error(exc):
            raise
        # A wrong password, a server that is down, a bad endpoint: one line, no traceback,
        # no credential (exit 2: configuration, nothing to retry blindly).
        sys.stderr.write(f"error: backend unavailable: {error_line(exc)}\n")
        raise SystemExit(2) from None
