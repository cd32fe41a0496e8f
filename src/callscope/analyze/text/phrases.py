"""Phrase lookup over tokens: the profile's synonym lists compiled once into dictionaries.

Phrases are matched on *squashed* token runs (spaces and hyphens removed), so one entry
"docusign" also finds the ASR splits "docu sign" / "docu-sign", and "hubspot" finds
"hub spot". At each token the longest phrase wins ("dropbox sign" over "dropbox",
"insurance agency" over "agency"). ``*`` in a phrase stands for any one word.
Lookups are dictionary probes, a few per token, so a call costs microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_SQUASH = re.compile(r"[\s\-.']+")
_TOKEN = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
MAX_WORDS = 6


def squash(text: str) -> str:
    return _SQUASH.sub("", text.lower())


@dataclass(frozen=True, slots=True)
class Hit:
    group: str  # which list the phrase came from (e.g. "competitors")
    id: str  # the vocabulary id
    phrase: str
    start: int  # character offsets in the text searched
    end: int


@dataclass(frozen=True, slots=True)
class _Pattern:
    words: tuple[str, ...]  # "*" = any one token
    group: str
    id: str
    phrase: str


class PhraseMatcher:
    """Longest-match lookup of many phrase lists at once."""

    def __init__(self, lists: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
        self._exact: dict[str, list[tuple[str, str, str]]] = {}
        self._wild: dict[str, list[_Pattern]] = {}  # first word -> patterns with a "*"
        self._max = 1
        for group, ids in lists.items():
            for vid, phrases in ids.items():
                for phrase in phrases:
                    self._add(group, vid, phrase)
        # Every prefix of every key: a token run that is no prefix cannot grow into a match.
        prefixes = {key[:i] for key in self._exact for i in range(1, len(key) + 1)}
        # ...and each with a plural "s": one set probe per token decides whether to look on.
        self._prefixes = prefixes | {p + "s" for p in prefixes}
        self._starts = self._prefixes | set(self._wild)

    def _add(self, group: str, vid: str, phrase: str) -> None:
        words = tuple(w for w in re.split(r"\s+", phrase.strip().lower()) if w)
        if not words:
            return
        self._max = max(self._max, min(len(words) + 2, MAX_WORDS))
        if "*" in words:
            key = squash(words[0])
            self._wild.setdefault(key, []).append(_Pattern(words, group, vid, phrase))
            return
        self._exact.setdefault(squash(phrase), []).append((group, vid, phrase))

    def find(self, low: str, groups: frozenset[str] | None = None) -> list[Hit]:
        """Every phrase of the wanted groups in ``low`` (already normalised)."""
        words: list[str] = _TOKEN.findall(low)
        sq = (
            [w.replace("'", "").replace(".", "") for w in words]
            if "'" in low or "." in low
            else words
        )
        spans: list[tuple[int, int]] = []  # token offsets, found only once a phrase matches
        hits: list[Hit] = []
        taken: dict[str, int] = {}  # per group: first token index still free
        n = len(sq)
        prefixes, exact, wild, longest = self._prefixes, self._exact, self._wild, self._max
        starts = self._starts
        for i in range(n):
            first = sq[i]
            if first not in starts:
                continue  # most tokens: no phrase starts here
            found: dict[str, tuple[int, str, str]] | None = (
                None  # group -> (last token, id, phrase)
            )
            joined = ""
            for j in range(i, min(n, i + longest)):
                joined += sq[j]
                if joined not in prefixes:
                    break
                entries = exact.get(joined)
                if entries is None and joined.endswith("s"):
                    entries = exact.get(joined[:-1])
                if entries is None:
                    continue
                for group, vid, phrase in entries:
                    if groups is not None and group not in groups:
                        continue
                    if found is None:
                        found = {}
                    found[group] = (j, vid, phrase)
            for pat in wild.get(first, ()):
                if groups is not None and pat.group not in groups:
                    continue
                end = i + len(pat.words) - 1
                if end < n and all(
                    w == "*" or squash(w) == sq[i + k] for k, w in enumerate(pat.words)
                ):
                    if found is None:
                        found = {}
                    prev = found.get(pat.group)
                    if prev is None or prev[0] < end:
                        found[pat.group] = (
                            end,
                            pat.id,
                            pat.phrase,
                        )
            if found is None:
                continue
            for group, (j, vid, phrase) in found.items():
                if taken.get(group, 0) <= i:
                    if not spans:
                        spans = [m.span() for m in _TOKEN.finditer(low)]
                    hits.append(Hit(group, vid, phrase, spans[i][0], spans[j][1]))
                    taken[group] = j + 1
        return hits
