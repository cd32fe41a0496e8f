"""``callscope outcomes``: what happened after the calls (import, CRM pull, report, demo data).

Exit codes: 0 ok; 1 some lines or rows were rejected, or the CRM failed; 2 usage or
configuration error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.context import fail_line

out = Console()
err = Console(stderr=True)

outcomes_app = typer.Typer(
    name="outcomes",
    help="Outcomes after the call: import CSV/JSONL, pull from Salesforce, accuracy and ROI.",
    no_args_is_help=True,
)
pull_app = typer.Typer(name="pull", help="Pull outcomes from a CRM.", no_args_is_help=True)
outcomes_app.add_typer(pull_app)


def _store() -> Any:
    from callscope.cli.core import _open_store, settings

    return _open_store(settings())


def _report_write(result: Any, bad_lines: int = 0) -> None:
    out.print(f"outcomes written: {result.written}", highlight=False)
    for key, reason in result.failed:
        err.print(f"[red]rejected[/] {key}: {reason}", highlight=False, soft_wrap=True)
    if result.failed or bad_lines:
        raise typer.Exit(1)


@outcomes_app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="CSV (header row) or JSONL file.")],
    source: Annotated[
        str | None, typer.Option("--source", help="Source label (default: file name).")
    ] = None,
) -> None:
    """Import outcomes: session_id or email, stage, closed_won, amount, trial_converted, dates."""
    from callscope.outcomes.records import parse_file
    from callscope.outcomes.store import write_outcomes

    try:
        good, bad = parse_file(path)
    except ValueError as exc:
        fail_line(exc)
        raise typer.Exit(2) from None
    for line in bad:
        err.print(f"[red]{path}:{line.line}:[/] {line.message}", highlight=False, soft_wrap=True)
    store = _store()
    try:
        result = write_outcomes(store, good, source or path.name)
    finally:
        store.close()
    _report_write(result, len(bad))


@pull_app.command("salesforce")
def pull_salesforce(
    instance_url: Annotated[
        str, typer.Option("--instance-url", help="https://<org>.my.salesforce.com")
    ],
    session_id_env: Annotated[
        str, typer.Option("--session-id-env", help="Env var holding the access token.")
    ] = "CALLSCOPE_SALESFORCE_SESSION_ID",
    api_version: Annotated[str, typer.Option("--api-version")] = "59.0",
    ca_bundle: Annotated[str | None, typer.Option("--ca-bundle", help="Private CA file.")] = None,
) -> None:
    """Lead status and opportunities for every caller email in the warehouse."""
    from callscope.outcomes.salesforce import PullError, SalesforcePull
    from callscope.outcomes.store import known_emails, write_outcomes

    token = os.environ.get(session_id_env, "").strip()
    if not token:
        fail_line(f"{session_id_env} is not set (Salesforce access token)")
        raise typer.Exit(2)
    store = _store()
    try:
        emails = known_emails(store)
        pull = SalesforcePull(
            instance_url, token, api_version=api_version, verify=ca_bundle or True
        )
        try:
            found = pull.outcomes(emails)
        except PullError as exc:
            fail_line(exc)
            raise typer.Exit(1) from None
        out.print(f"asked about {len(emails)} emails, {len(found)} leads found", highlight=False)
        result = write_outcomes(store, found, "salesforce")
    finally:
        store.close()
    _report_write(result)


@outcomes_app.command("synthesize")
def synthesize_cmd(
    path: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    seed: Annotated[int, typer.Option("--seed")] = 7,
    share: Annotated[float, typer.Option("--share", min=0.0, max=1.0)] = 0.8,
) -> None:
    """Demo only: outcomes drawn from each stored call's signals with noise (source synthetic)."""
    from callscope.outcomes.store import all_calls
    from callscope.outcomes.synthetic import synthesize

    store = _store()
    try:
        made = synthesize(all_calls(store), seed=seed, share=share)
    finally:
        store.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for o in made:
            fh.write(o.model_dump_json(exclude_none=True) + "\n")
    out.print(f"wrote {len(made)} synthetic outcomes to {path}", highlight=False)


@outcomes_app.command("report")
def report_cmd(
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Qualification accuracy per week and business impact (measured vs assumed)."""
    from callscope.cli.context import profile_or_exit
    from callscope.outcomes.impact import business_impact
    from callscope.outcomes.store import qualification_accuracy

    store = _store()
    try:
        weeks = qualification_accuracy(store)
        impact = business_impact(store, profile_or_exit())
    finally:
        store.close()
    if fmt == "json":
        typer.echo(json.dumps({"weeks": weeks, "impact": impact.as_dict()}, default=str))
        return
    t = Table(title="qualification accuracy (predicted tier vs outcome)")
    for col in ("week", "calls", "accuracy", "TP", "FP", "FN"):
        t.add_column(col, justify="left" if col == "week" else "right")
    for w in weeks:
        t.add_row(
            str(w["week"]),
            str(w["calls_with_outcome"]),
            f"{float(w['accuracy']):.2f}",
            str(w["true_positives"]),
            str(w["false_positives"]),
            str(w["false_negatives"]),
        )
    out.print(t)
    i = impact.as_dict()
    kind = "measured" if impact.measured else "ASSUMED"
    for key in (
        "calls_with_outcome",
        "trial_to_paid",
        "assisted_revenue",
        "pipeline_influenced",
        "time_to_value_days",
        "escalation_rate",
        "return_caller_rate",
        "cost_usd",
        "value_usd",
        "roi_pct",
    ):
        out.print(f"{key:<22} {i[key]}", highlight=False)
    out.print(f"ROI figures are {kind}", highlight=False)
    for a in impact.assumptions:
        out.print(f"  assumption: {a}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(outcomes_app)
