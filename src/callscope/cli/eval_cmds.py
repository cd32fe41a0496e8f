"""``callscope eval DIR``: score the analyzers against a labeled set (dev-set format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callscope.cli.context import fail_line
from callscope.eval import TIERS, EvalSetError, Report, evaluate, noise_transform
from callscope.profile.model import ProfileError, load_profile

_out = Console()
_err = Console(stderr=True)


def _table(report: Report, max_misses: int) -> None:
    micro = report.micro
    t = Table(title=f"callscope eval (n={report.n})")
    for col in ("field", "precision", "recall", "F1", "tp", "fp", "fn"):
        t.add_column(col, justify="left" if col == "field" else "right")
    for name, s in sorted(report.fields.items()):
        t.add_row(
            name,
            f"{s.precision:.2f}",
            f"{s.recall:.2f}",
            f"{s.f1:.2f}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
        )
    t.add_row(
        "[bold]signals (micro)",
        f"{micro.precision:.2f}",
        f"{micro.recall:.2f}",
        f"[bold]{micro.f1:.3f}",
        str(micro.tp),
        str(micro.fp),
        str(micro.fn),
    )
    _out.print(t)
    acc = Table(title="accuracy")
    acc.add_column("metric")
    acc.add_column("accuracy", justify="right")
    acc.add_column("correct/total", justify="right")
    for key, (c, n) in report.accuracy.items():
        acc.add_row(key, f"{report.acc(key):.2f}", f"{c}/{n}")
    _out.print(acc)
    conf = Table(title="tier confusion (rows: labeled, columns: predicted)")
    conf.add_column("labeled")
    predicted = TIERS + sorted(
        {p for row in report.tier_confusion.values() for p in row} - set(TIERS)
    )
    for p in predicted:
        conf.add_column(p, justify="right")
    for gold_tier in TIERS:
        row = report.tier_confusion.get(gold_tier, {})
        conf.add_row(gold_tier, *(str(row.get(p, 0)) for p in predicted))
    _out.print(conf)
    if report.misses:
        _out.print(f"[bold]misses[/] ({len(report.misses)})")
        for m in report.misses[:max_misses]:
            _out.print("  " + m.line(), highlight=False, soft_wrap=True)


def _side_by_side(clean: Report, noisy: Report) -> None:
    """The headline figures on the set as written and on its raw-STT variant."""
    t = Table(title="clean vs ASR-noisy (same labels; caller turns as raw speech-to-text)")
    for col in ("metric", "clean", "noisy"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    t.add_row("signal micro-F1", f"{clean.micro.f1:.3f}", f"{noisy.micro.f1:.3f}")
    for key in clean.accuracy:
        t.add_row(key, f"{clean.acc(key):.2f}", f"{noisy.acc(key):.2f}")
    _out.print(t)


def _noisy_summary(report: Report) -> dict[str, object]:
    full = report.to_dict()
    return {k: full[k] for k in ("n", "signal_micro", "fields", "accuracy", "tier_confusion")}


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_cmd(
        directory: Annotated[Path, typer.Argument(help="directory of labeled *.json cases")],
        fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
        profile: Annotated[
            str | None, typer.Option("--profile", help="profile YAML or name")
        ] = None,
        min_f1: Annotated[float | None, typer.Option("--min-f1", help="fail below this F1")] = None,
        min_tier: Annotated[
            float | None, typer.Option("--min-tier", help="fail below this tier accuracy")
        ] = None,
        max_misses: Annotated[int, typer.Option("--max-misses")] = 80,
        noisy: Annotated[
            bool,
            typer.Option("--noisy/--clean-only", help="also score the set made ASR-noisy"),
        ] = True,
        seed: Annotated[int, typer.Option("--seed", help="seed of the ASR noise")] = 0,
    ) -> None:
        """Score `analyze` on a labeled set: per-field P/R/F1, micro-F1, tier, misses."""
        if fmt not in ("table", "json"):
            fail_line(f"--format must be table or json, not {fmt!r}")
            raise typer.Exit(2)
        try:
            prof = load_profile(profile)
            report = evaluate(directory, prof)
            noisy_report = evaluate(directory, prof, noise_transform(prof, seed)) if noisy else None
        except (ProfileError, EvalSetError) as exc:
            fail_line(exc)
            raise typer.Exit(2) from None
        if fmt == "json":
            out = report.to_dict()
            if noisy_report is not None:
                out["noisy"] = _noisy_summary(noisy_report)
            print(json.dumps(out, ensure_ascii=False))
        else:
            _table(report, max_misses)
            if noisy_report is not None:
                _side_by_side(report, noisy_report)
        failed = []
        if min_f1 is not None and report.micro.f1 < min_f1:
            failed.append(f"signal micro-F1 {report.micro.f1:.3f} < {min_f1}")
        if min_tier is not None and report.acc("lead.tier") < min_tier:
            failed.append(f"tier accuracy {report.acc('lead.tier'):.2f} < {min_tier}")
        if failed:
            _err.print("[red]below threshold:[/] " + "; ".join(failed), highlight=False)
            raise typer.Exit(1)

    @app.command("noisify")
    def noisify_cmd(
        source: Annotated[Path, typer.Argument(help="directory of labeled *.json cases")],
        out: Annotated[Path, typer.Argument(help="directory to write the noisy cases to")],
        profile: Annotated[
            str | None, typer.Option("--profile", help="profile whose phrases get split")
        ] = None,
        seed: Annotated[int, typer.Option("--seed")] = 0,
    ) -> None:
        """Write an ASR-noisy copy of a labeled set (lower case, no punctuation, spoken
        numbers, fillers, restarts, split brand names); labels unchanged."""
        from callscope.analyze.text.vocab import profile_phrases
        from callscope.devtools.asr_noise import noisy_set

        try:
            prof = load_profile(profile)
        except ProfileError as exc:
            fail_line(exc)
            raise typer.Exit(2) from None
        if not source.is_dir():
            fail_line(f"{source}: not a directory")
            raise typer.Exit(2)
        n = noisy_set(source, out, profile_phrases(prof), seed)
        _err.print(f"wrote {n} noisy cases to {out}", highlight=False)
