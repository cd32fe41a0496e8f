"""The ``callscope`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="callscope",
    help="Analytics pipeline for LiveKit voice agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

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
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"callscope.cli.{name}")
        module.register(app)


def main() -> None:
    _load()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:
        from callscope.masking import error_line, is_backend_error

        if not is_backend_error(exc):
            raise
        # A wrong password, a server that is down, a bad endpoint: one line, no traceback,
        # no credential (exit 2: configuration, nothing to retry blindly).
        sys.stderr.write(f"error: backend unavailable: {error_line(exc)}\n")
        raise SystemExit(2) from None
