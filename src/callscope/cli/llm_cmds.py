"""``callscope llm-compare``: run the LLM analyzers beside the offline ones, record by record.

The A/B tool for deciding whether an LLM backend is worth its cost: for each session it shows
whether the LLM answer was used (or why it fell back), its latency and list-price cost, and
which sales fields differ from the offline analyzer. ``--format json`` prints the LLM
registry's full analysis, one object per line, as ``callscope analyze`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from callscope.cli.context import fail_line, out, profile_or_exit, settings


def register(app: typer.Typer) -> None:
    @app.command("llm-compare")
    def llm_compare(
        files: Annotated[list[Path], typer.Argument(help="Record files or directories.")],
        backend: Annotated[
            str | None, typer.Option(help="anthropic or openai (default: analysis_backend).")
        ] = None,
        model: Annotated[str | None, typer.Option(help="Model (default: llm_model).")] = None,
        base_url: Annotated[
            str | None, typer.Option(help="OpenAI-compatible server URL (default: llm_base_url).")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    ) -> None:
        """Analyze records with the LLM backend and compare with the offline analyzers."""
        from callscope.analyze import build_view, contract_output
        from callscope.analyze.registry import registry as offline
        from callscope.config import ConfigError
        from callscope.contract.errors import RecordError
        from callscope.contract.parse import expand_paths, read_path
        from callscope.llm import build_llm_registry

        if fmt not in ("table", "json"):
            fail_line(f"--format must be table or json, not {fmt!r}")
            raise typer.Exit(2)
        cfg = settings()
        update: dict[str, Any] = {"analysis_backend": backend or cfg.analysis_backend}
        if model:
            update["llm_model"] = model
        if base_url:
            update["llm_base_url"] = base_url
        cfg = cfg.model_copy(update=update)
        if cfg.analysis_backend not in ("anthropic", "openai"):
            fail_line("llm-compare needs --backend anthropic|openai or analysis_backend set")
            raise typer.Exit(2)
        prof = profile_or_exit()
        try:
            llm = build_llm_registry(prof, cfg)
        except ConfigError as exc:
            fail_line(exc)
            raise typer.Exit(2) from None
        failures = 0
        rows: list[dict[str, Any]] = []
        for path in expand_paths(files):
            for item in read_path(path):
                if isinstance(item, RecordError):
                    failures += 1
                    fail_line(item)
                    continue
                view = build_view(item)
                result = contract_output(llm.run(view, prof))
                if fmt == "json":
                    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
                    continue
                base = contract_output(offline.run(view, prof))
                rows.append(_row(result, base))
        if fmt == "table":
            _table(rows)
        sys.stdout.flush()
        raise typer.Exit(1 if failures else 0)


def _row(result: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    meta = result["sales"].get("llm") or {}
    return {
        "session_id": result["session_id"],
        "used": bool(meta.get("used")),
        "fallback": meta.get("fallback") or "",
        "latency_ms": float(meta.get("latency_ms") or 0.0),
        "cost_usd": meta.get("cost_usd"),
        "differs": sorted((meta.get("offline_differs") or {}).keys()),
        "tier": f"{base['lead']['tier']} -> {result['lead']['tier']}",
    }


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table("session", "LLM used", "latency ms", "cost $", "differs from offline", "tier")
    for r in rows:
        table.add_row(
            r["session_id"],
            "yes" if r["used"] else f"no: {r['fallback']}",
            f"{r['latency_ms']:.0f}",
            "?" if r["cost_usd"] is None else f"{r['cost_usd']:.5f}",
            ", ".join(r["differs"]) or "-",
            r["tier"],
        )
    out.print(table)
    used = [r for r in rows if r["used"]]
    priced = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    mean = sum(r["latency_ms"] for r in rows) / len(rows) if rows else 0.0
    out.print(
        f"{len(used)}/{len(rows)} sessions used the LLM answer; mean sales latency {mean:.0f} ms; "
        f"sales cost ${sum(priced):.4f}"
        + (f" ({len(rows) - len(priced)} unpriced)" if len(priced) < len(rows) else "")
    )
