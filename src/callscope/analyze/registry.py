"""Analyzer registry: small pure functions ``(view, profile, upstream) -> result``.

Registered by name and version (like structlog processors or datasette hooks). An analyzer
may read the results of the analyzers it ``requires``; the runner orders them, runs each in
isolation and records an error for a module that raises, so one failure never loses the
others' results.

The version recorded with a result is derived, never only typed: the human ``VERSION`` the
module registers, then ``+`` and a short hash of the analyzer's code (its module and every
callscope module it imports, see :mod:`callscope.analyze.codehash`), the profile's
fingerprint, the derived versions of the analyzers it requires, and its ``salt`` (a model
file it loads). So ``reprocess`` re-runs a session exactly when something its analyzers
depend on changed, and a golden test (``tests/analyze/test_versions.py``) fails when an
output changes while its version does not.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callscope.analyze.codehash import code_digest
from callscope.analyze.text.asr import repair_view
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

Result = dict[str, Any]
AnalyzerFn = Callable[[CallView, Profile, Mapping[str, Result]], Result]


@dataclass(frozen=True)
class Analyzer:
    name: str
    version: str
    fn: AnalyzerFn
    requires: tuple[str, ...] = ()
    needs_text: bool = True  # reads transcript text: skipped when analytics consent is off
    salt: Callable[[], str] | None = None  # what else the output depends on (a loaded model)

    def code(self) -> str:
        """Digest of the analyzer's code and of the runner's (the speech-to-text repair)."""
        return code_digest((self.fn.__module__, __name__))


@dataclass
class ModuleOutcome:
    name: str
    version: str
    result: Result | None
    error: str | None = None
    skipped: str | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None


@dataclass
class AnalysisRun:
    session_id: str
    modules: dict[str, ModuleOutcome] = field(default_factory=dict)

    def results(self) -> dict[str, Result]:
        return {n: m.result for n, m in self.modules.items() if m.result is not None}

    def versions(self) -> dict[str, str]:
        return {n: m.version for n, m in self.modules.items()}

    def errors(self) -> dict[str, str]:
        return {n: m.error for n, m in self.modules.items() if m.error}


class Registry:
    def __init__(self) -> None:
        self._analyzers: dict[str, Analyzer] = {}
        self._order: list[Analyzer] | None = None
        self._derived: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        self._derived_for: list[Analyzer] | None = None  # the order those versions were made in

    def register(
        self,
        name: str,
        version: str,
        *,
        requires: tuple[str, ...] = (),
        needs_text: bool = True,
        salt: Callable[[], str] | None = None,
    ) -> Callable[[AnalyzerFn], AnalyzerFn]:
        def deco(fn: AnalyzerFn) -> AnalyzerFn:
            self.add(Analyzer(name, version, fn, requires, needs_text, salt))
            return fn

        return deco

    def add(self, analyzer: Analyzer) -> None:
        self._analyzers[analyzer.name] = analyzer
        self._order = None

    def get(self, name: str) -> Analyzer:
        return self._analyzers[name]

    def names(self) -> list[str]:
        return [a.name for a in self.ordered()]

    def ordered(self) -> list[Analyzer]:
        if self._order is None:
            self._order = _toposort(self._analyzers)
        return self._order

    def versions(self, profile: Profile) -> dict[str, str]:
        """``{name: derived version}`` of every analyzer run with ``profile``."""
        ordered = self.ordered()
        if self._derived_for is not ordered:  # the versions fold in who requires whom
            self._derived.clear()
            self._derived_for = ordered
        salts = tuple(a.salt() if a.salt else "" for a in ordered)
        key = (profile.fingerprint, salts)
        found = self._derived.get(key)
        if found is None:
            found = {}
            for analyzer, salt in zip(ordered, salts, strict=True):
                upstream = [found[r] for r in analyzer.requires]
                parts = [analyzer.code(), profile.fingerprint, *upstream, salt]
                digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]
                found[analyzer.name] = f"{analyzer.version}+{digest}"
            if len(self._derived) > 32:  # salts that keep changing must not grow it forever
                self._derived.clear()
            self._derived[key] = found
        return found

    def run(self, view: CallView, profile: Profile) -> AnalysisRun:
        run = AnalysisRun(view.session_id)
        results: dict[str, Result] = {}
        versions = self.versions(profile)
        if view.analytics_consent:  # raw speech-to-text made readable once, before any reader
            view = repair_view(view, profile)
        for analyzer in self.ordered():
            outcome = ModuleOutcome(analyzer.name, versions[analyzer.name], None)
            missing = [r for r in analyzer.requires if r not in results]
            if analyzer.needs_text and not view.analytics_consent:
                outcome.skipped = "no analytics consent"
            elif missing:
                outcome.skipped = f"upstream failed: {', '.join(missing)}"
            else:
                start = time.perf_counter()
                try:
                    result = analyzer.fn(view, profile, results)
                    outcome.result = result
                    results[analyzer.name] = result
                except Exception as exc:  # one module failing never loses the others
                    outcome.error = f"{type(exc).__name__}: {exc}"
                outcome.duration_ms = (time.perf_counter() - start) * 1000
            run.modules[analyzer.name] = outcome
        return run


def _toposort(analyzers: Mapping[str, Analyzer]) -> list[Analyzer]:
    done: dict[str, Analyzer] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise ValueError(f"analyzer dependency cycle at {name}")
        visiting.add(name)
        analyzer = analyzers[name]
        for dep in analyzer.requires:
            if dep not in analyzers:
                raise ValueError(f"analyzer {name} requires unknown analyzer {dep}")
            visit(dep)
        visiting.discard(name)
        done[name] = analyzer

    for n in analyzers:
        visit(n)
    return list(done.values())


registry = Registry()
"""The default registry; ``callscope.analyze.modules`` registers the built-in analyzers."""
