"""``callscope scorer train``: fit the learned lead scorer on calls with outcomes.

Prints AUC and calibration of the learned model against the rule model on a held-out split and
writes them to ``bench/results/scorer_train.json``; ``CALLSCOPE_LEAD_MODEL=<file>`` then adds
``lead.score_model`` / ``lead.tier_model`` to every analysis. Exit 1: not enough data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.context import fail_line

out = Console()
err = Console(stderr=True)

scorer_app = typer.Typer(name="scorer", help="The learned lead scorer.", no_args_is_help=True)


@scorer_app.command("train")
def train_cmd(
    model_dir: Annotated[
        Path | None, typer.Option("--out", help="Model directory (default: DATA_DIR/models).")
    ] = None,
    results: Annotated[
        Path, typer.Option("--results", help="Where the evaluation JSON goes.")
    ] = Path("bench/results/scorer_train.json"),
    test_size: Annotated[float, typer.Option("--test-size", min=0.1, max=0.5)] = 0.3,
    seed: Annotated[int, typer.Option("--seed")] = 7,
) -> None:
    """Fit, compare with the rule model on a held-out split, write a versioned model file."""
    from callscope.cli.core import _open_store, settings
    from callscope.outcomes.store import labeled_calls
    from callscope.outcomes.train import TrainError, train

    cfg = settings()
    store = _open_store(cfg)
    try:
        calls = labeled_calls(store)
    finally:
        store.close()
    target = model_dir or Path(cfg.data_dir) / "models"
    try:
        report = train(calls, target, test_size=test_size, seed=seed)
    except TrainError as exc:
        fail_line(exc)
        raise typer.Exit(1) from None
    t = Table(title=f"held-out split: {report.n_test} calls (trained on {report.n_train})")
    for col in ("model", "AUC", "Brier", "ECE"):
        t.add_column(col, justify="left" if col == "model" else "right")
    for name, m in (
        ("learned (calibrated LR)", report.learned),
        ("rule score / 100", report.rules),
    ):
        t.add_row(name, f"{m.auc:.3f}", f"{m.brier:.3f}", f"{m.ece:.3f}")
    out.print(t)
    out.print(f"model {report.version}: {report.model_path}", highlight=False)
    out.print(f"use it: CALLSCOPE_LEAD_MODEL={Path(report.model_path).parent / 'lead_model.json'}")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report.as_dict(), indent=1) + "\n", encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.add_typer(scorer_app)
