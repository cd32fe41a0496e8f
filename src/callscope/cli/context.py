"""The options every command shares, and the one way a command reports an error.

``--profile``, ``--config`` and ``--data-dir`` are parsed by the root callback into a
:class:`CliContext` stored on the Click context (``ctx.obj``): each invocation gets its own,
so nothing carries over between in-process runs. Commands read it with :func:`current`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from callscope.config import ConfigError, Settings, load_settings
from callscope.profile.model import Profile, ProfileError, load_profile

if TYPE_CHECKING:
    from rich.progress import Progress

err = Console(stderr=True)
# Piped output is read by people in logs and files: do not squeeze tables to 80 columns.
out = Console() if sys.stdout.isatty() else Console(width=200)


@dataclass(frozen=True)
class CliContext:
    """Global options of one ``callscope`` invocation (``None``: config file / env decide)."""

    profile_source: str | None = None
    config_file: str | None = None
    data_dir: str | None = None


def _click_context() -> typer.Context | None:
    # Typer ships its own copy of Click (typer._click) since 0.2x; older ones use click's.
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import get_current_context  # type: ignore[no-redef]
    found: typer.Context | None = get_current_context(silent=True)  # type: ignore[assignment]
    return found


def current() -> CliContext:
    """The running command's options; defaults when a sub-app runs without the root app."""
    ctx = _click_context()
    found = ctx.find_object(CliContext) if ctx is not None else None
    return found if found is not None else CliContext()


def fail_line(exc: BaseException | str) -> None:
    """The one way a command reports an error: one line, credentials masked."""
    from rich.markup import escape

    from callscope.masking import error_line, is_backend_error, mask_text

    text = error_line(exc) if isinstance(exc, BaseException) and is_backend_error(exc) else str(exc)
    line = " ".join(mask_text(text).split())
    err.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


def fail(exc: BaseException | str, code: int) -> NoReturn:
    """Report ``exc`` in one line and end the command with exit ``code``."""
    fail_line(exc)
    raise typer.Exit(code) from None


def exit_error(exc: BaseException | str, code: int) -> typer.Exit:
    """:func:`fail_line` and the ``typer.Exit`` to raise (for ``raise ... from None``)."""
    fail_line(exc)
    return typer.Exit(code)


def settings() -> Settings:
    cli = current()
    try:
        return load_settings(cli.config_file, data_dir=cli.data_dir, profile=cli.profile_source)
    except ConfigError as exc:
        fail(exc, 2)


def profile_or_exit(source: str | None = None) -> Profile:
    try:
        return load_profile(source or current().profile_source or settings().profile)
    except ProfileError as exc:
        fail(exc, 2)


def profile_source() -> str:
    """What ``--profile`` (or the config) names, for analyzer provenance."""
    return current().profile_source or settings().profile


def progress(console: Console | None = None) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or err,
        transient=False,
        disable=not (console or err).is_terminal,
    )
