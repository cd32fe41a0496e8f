"""``callscope dashboard refresh``: bring the dashboard's rollup tables up to date."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from callscope.cli.core import _open_store, err, fail_line, settings


def register(app: typer.Typer) -> None:
    dash = typer.Typer(help="The web dashboard's rollup tables.", no_args_is_help=True)

    @dash.command("refresh")
    def refresh(
        full: Annotated[
            bool,
            typer.Option(
                "--full",
                help="Rebuild every day (after forget / retention deletions, which the "
                "incremental refresh does not see).",
            ),
        ] = False,
    ) -> None:
        """Fold newly processed sessions into the rollups the dashboard reads."""
        from callscope.store.base import StoreError
        from callscope.store.rollups import refresh_rollups

        store = _open_store(settings(), role="dashboard")
        try:
            started = time.perf_counter()
            result = refresh_rollups(store, full=full)
        except StoreError as exc:
            fail_line(exc)
            raise typer.Exit(1) from None
        finally:
            store.close()
        kind = "rebuilt" if result.full else "refreshed"
        err.print(
            f"rollups {kind}: {result.days} day(s) in {time.perf_counter() - started:.1f} s",
            highlight=False,
        )

    app.add_typer(dash, name="dashboard")
