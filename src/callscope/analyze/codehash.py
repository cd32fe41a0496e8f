"""A digest of the code an analyzer runs: its module and every callscope module it imports.

An analyzer's version is only meaningful if it changes whenever its behaviour can: a hand-kept
``VERSION`` string is forgotten the day someone edits a shared engine module. So the registry
folds this digest (and the profile's fingerprint) into every version, and ``reprocess``
re-runs exactly the sessions whose analyzers changed.

The closure follows ``import`` / ``from ... import`` statements (also inside functions) to
every ``callscope`` module reachable from the analyzer's own module, plus package data files
the closure names by file name (a model shipped as JSON). What is hashed is each module's
syntax tree without docstrings, so a comment or a reformat is not a new version. Importing a
submodule through a package (``from callscope.analyze.engine import vocab``) does not pull in
the package's ``__init__``: the package modules that only register analyzers would otherwise
make every analyzer depend on every other.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

_ROOT = "callscope"
_DATA_SUFFIXES = (".json", ".txt", ".yaml", ".csv")


def _origin(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_module(name: str) -> bool:
    return _origin(name) is not None


def _imports(module: str, source: str) -> set[str]:
    """The callscope modules one module's source imports."""
    found: set[str] = set()
    is_package = (_origin(module) or Path()).name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == _ROOT)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, package)
            if base is None or base.split(".")[0] != _ROOT:
                continue
            subs = {f"{base}.{a.name}" for a in node.names}
            modules = {s for s in subs if _is_module(s)}
            found.update(modules)
            if len(modules) < len(subs):  # some names are defined in ``base`` itself
                found.add(base)
    return {m for m in found if _is_module(m)}


def _resolve(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    parts = package.split(".")
    if node.level - 1 > len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


@cache
def _source(module: str) -> str:
    path = _origin(module)
    return path.read_text(encoding="utf-8") if path else ""


def closure(roots: Iterable[str]) -> list[str]:
    """Every callscope module reachable from ``roots`` by imports, sorted."""
    seen: set[str] = set()
    todo = [r for r in roots if _is_module(r)]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports(module, _source(module)) - seen)
    return sorted(seen)


def _data_files(modules: list[str]) -> list[Path]:
    """Package data files (beside the closure's modules) whose name a closure module spells."""
    dirs = {p.parent for m in modules if (p := _origin(m)) is not None}
    dirs |= {d.parent for d in dirs}
    text = "\n".join(_source(m) for m in modules)
    files = {f for d in dirs for f in d.iterdir() if f.suffix in _DATA_SUFFIXES and f.name in text}
    return sorted(files)


@cache
def _code(module: str) -> str:
    """The module's syntax tree without docstrings: comments and formatting change nothing."""
    tree = ast.parse(_source(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            del body[0]
    return ast.dump(tree)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


@cache
def code_digest(roots: tuple[str, ...]) -> str:
    """sha256 over the code of the closure of ``roots`` and the data files it names."""
    modules = closure(roots)
    h = hashlib.sha256()
    for module in modules:
        h.update(module.encode() + b"\0" + _code(module).encode() + b"\0")
    for path in _data_files(modules):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
