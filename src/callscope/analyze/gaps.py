"""Content gaps: failed knowledge-base searches clustered across sessions into named topics.

One failed search is noise; the same unanswered question from twenty callers is a missing
article. :func:`content_gaps` takes ``(session_id, query)`` pairs from many calls, groups
similar queries (TF-IDF over word n-grams, agglomerative clustering on cosine distance; a
mini-batch k-means when there are too many queries for a distance matrix) and names each
group after the profile's ``kb_topics`` when its queries use a topic's words, or after the
group's top terms otherwise. Pure: no I/O, same input, same output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans
from sklearn.feature_extraction.text import TfidfVectorizer

_NORMAL = re.compile(r"[^a-z0-9+#. ]+")
_SPACES = re.compile(r"\s+")
_AGGLOMERATIVE_MAX = 2000  # above this a dense distance matrix costs too much memory


@dataclass
class ContentGap:
    topic: str
    terms: list[str]
    queries: list[str]  # distinct normalised queries, most frequent first
    count: int  # failed searches in the group
    sessions: list[str] = field(default_factory=list)

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "terms": self.terms,
            "queries": self.queries,
            "count": self.count,
            "sessions": self.session_count,
            "session_ids": self.sessions,
        }


def normalise(query: str) -> str:
    return _SPACES.sub(" ", _NORMAL.sub(" ", query.lower())).strip()


def _topic_of(text: str, topics: Mapping[str, Sequence[str]]) -> str | None:
    padded = f" {text} "
    best, best_hits = None, 0
    for topic, words in topics.items():
        hits = 0
        for w in words:
            w = w.lower().strip()
            # Whole words, with a plural allowed: "template" matches "templates".
            if w and (f" {w} " in padded or f" {w}s " in padded):
                hits += 1
        if hits > best_hits:
            best, best_hits = topic, hits
    return best


def _top_terms(
    dense: np.ndarray, vocab: np.ndarray, idx: list[int], hits: Counter[str], queries: list[str]
) -> list[str]:
    """Single words carrying most TF-IDF weight in a group, each query weighted by its hits."""
    if not dense.shape[1]:
        return []
    weights = (dense[idx] * np.array([[hits[queries[i]]] for i in idx])).sum(axis=0)
    order = np.argsort(-weights, kind="stable")
    return [str(vocab[j]) for j in order[:12] if weights[j] > 0 and " " not in str(vocab[j])]


def _labels(matrix: np.ndarray, n: int, distance: float, seed: int) -> np.ndarray:
    if n == 1:
        return np.zeros(1, dtype=int)
    if n <= _AGGLOMERATIVE_MAX:
        model = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
        )
        return np.asarray(model.fit_predict(matrix))
    k = max(2, int(np.sqrt(n / 2)))
    km = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024)
    return np.asarray(km.fit_predict(matrix))


def content_gaps(
    pairs: Iterable[tuple[str, str]],
    kb_topics: Mapping[str, Sequence[str]] | None = None,
    *,
    distance: float = 0.8,
    min_count: int = 1,
    seed: int = 0,
) -> list[ContentGap]:
    """Group failed queries into named gaps, largest first.

    ``distance`` is the cosine distance under which queries join one group (lower: tighter
    groups). Empty or blank queries are ignored; gaps with fewer than ``min_count`` failed
    searches are dropped.
    """
    topics = kb_topics or {}
    hits: Counter[str] = Counter()
    sessions: dict[str, set[str]] = {}
    for session_id, query in pairs:
        if not isinstance(query, str):
            continue
        q = normalise(query)
        if not q:
            continue
        hits[q] += 1
        sessions.setdefault(q, set()).add(str(session_id))
    if not hits:
        return []
    queries = sorted(hits)
    # Single characters and stop words carry nothing; keep tokens like "api" and "sso".
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        stop_words="english",
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-z0-9][a-z0-9+#.]+\b",
    )
    try:
        matrix = vectorizer.fit_transform(queries)
    except ValueError:  # every query was stop words only
        matrix = None
    if matrix is None or matrix.shape[1] == 0:
        dense = np.zeros((len(queries), 0))
        vocab = np.array([], dtype=object)
    else:
        dense = matrix.toarray()
        vocab = vectorizer.get_feature_names_out()
    # A query made only of stop words has an all-zero row: cosine distance is undefined for
    # it, so it forms its own group instead of joining an arbitrary one.
    has_terms = dense.any(axis=1) if dense.shape[1] else np.zeros(len(queries), dtype=bool)
    labels = np.full(len(queries), -1, dtype=int)
    rows = np.flatnonzero(has_terms)
    if rows.size:
        labels[rows] = _labels(dense[rows], int(rows.size), distance, seed)
    next_label = int(labels.max()) + 1
    for i in np.flatnonzero(~has_terms):
        labels[i] = next_label
        next_label += 1

    members_of: dict[str, list[int]] = {}
    label_list = labels.tolist()
    for label in sorted(set(label_list)):
        idx = [i for i, lab in enumerate(label_list) if lab == label]
        members = [queries[i] for i in idx]
        votes = Counter(t for m in members if (t := _topic_of(m, topics)) is not None)
        if votes and sum(votes.values()) * 2 >= len(members):
            name = votes.most_common(1)[0][0]
        else:
            name = "_".join(_top_terms(dense, vocab, idx, hits, queries)[:2]) or members[0][:40]
        members_of.setdefault(name, []).extend(idx)

    groups: dict[str, ContentGap] = {}
    for name, idx in members_of.items():
        members = [queries[i] for i in idx]
        seen: set[str] = set()
        for m in members:
            seen |= sessions[m]
        groups[name] = ContentGap(
            topic=name,
            terms=_top_terms(dense, vocab, idx, hits, queries)[:3],
            queries=members,
            count=sum(hits[m] for m in members),
            sessions=sorted(seen),
        )
    result = [g for g in groups.values() if g.count >= min_count]
    for g in result:
        g.queries.sort(key=lambda q: (-hits[q], q))
    result.sort(key=lambda g: (-g.count, -g.session_count, g.topic))
    return result
