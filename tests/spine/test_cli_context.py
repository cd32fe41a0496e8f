"""Global options belong to one invocation: nothing carries over to the next in-process run."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from callscope.cli import core
from callscope.cli.context import CliContext, current, settings


def _app(seen: list[CliContext]) -> typer.Typer:
    app = typer.Typer()
    core.register(app)  # the real root callback that parses --profile/--config/--data-dir
    probe = typer.Typer()

    @probe.command("show")
    def show() -> None:
        seen.append(current())
        typer.echo(str(settings().data_dir))

    app.add_typer(probe, name="probe")
    return app


def test_options_reach_sub_commands_and_do_not_leak(tmp_path: Path) -> None:
    seen: list[CliContext] = []
    app = _app(seen)
    runner = CliRunner()
    first = runner.invoke(app, ["--data-dir", str(tmp_path / "a"), "probe", "show"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == str(tmp_path / "a")
    second = runner.invoke(app, ["probe", "show"])
    assert second.exit_code == 0, second.output
    assert seen == [CliContext(data_dir=str(tmp_path / "a")), CliContext()]
    assert second.output.strip() != str(tmp_path / "a")


def test_a_bad_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields: [unclosed\n")
    got = CliRunner().invoke(_app([]), ["--profile", str(bad), "probe", "show"])
    assert got.exit_code == 2
