"""Shared pytest setup. Real services (redis, postgres, moto) come from tests/fixtures/."""

from __future__ import annotations

import pathlib

import pytest

pytest_plugins: list[str] = []
for _name in ("redis_server", "postgres_server", "moto_server", "records"):
    if (pathlib.Path(__file__).parent / "fixtures" / f"{_name}.py").exists():
        pytest_plugins.append(f"tests.fixtures.{_name}")

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"
DEV_SET = SHARED / "evals" / "dev"


@pytest.fixture(scope="session")
def dev_cases() -> list[pathlib.Path]:
    cases = sorted(DEV_SET.glob("dev_*.json"))
    assert cases, f"no dev cases under {DEV_SET}"
    return cases
