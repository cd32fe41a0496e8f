"""PII redaction: callscope's redactor vs the strategy's regexes (and libraries, if present).

Corpus: Faker call sentences in 9 locales with one PII value each (written and spoken
forms), clean call sentences full of business numbers, and the labeled dev set. Recall
counts a PII value as caught only when every character of it is covered by a redaction.
Optional comparators (not project dependencies) run when importable: scrubadub,
commonregex. Writes bench/results/redaction.json.

    .venv/bin/python bench/redaction.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.governance.pii_corpus import clean_samples, dev_texts, pii_samples  # noqa: E402

from callscope.governance.redact import redact  # noqa: E402

DEV = ROOT.parent / "shared" / "evals" / "dev"
Spans = Callable[[str], list[tuple[int, int]]]

# The strategy document's "PII Handling" section, verbatim.
STRATEGY_PATTERNS = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b",
    "phone": r"\b\d{3}[-.]?\d{3}[-.]?\d{4}\b",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "credit_card": r"\b\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}\b",
}


def strategy_spans(text: str) -> list[tuple[int, int]]:
    # Applied sequentially like the strategy's redact_transcript; spans on the original text.
    return [(m.start(), m.end()) for p in STRATEGY_PATTERNS.values() for m in re.finditer(p, text)]


def callscope_spans(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in redact(text).spans]


def _optional() -> dict[str, Spans]:
    out: dict[str, Spans] = {}
    try:
        import scrubadub

        scrubber = scrubadub.Scrubber()

        def scrub(text: str) -> list[tuple[int, int]]:
            return [(f.beg, f.end) for f in scrubber.iter_filth(text)]

        out["scrubadub 2.0"] = scrub
    except Exception:
        pass
    try:
        import commonregex

        def common(text: str) -> list[tuple[int, int]]:
            spans = []
            for name in ("email", "phone", "street_address", "credit_card", "po_box"):
                pattern = getattr(commonregex, name, None)
                if isinstance(pattern, re.Pattern):
                    spans += [(m.start(), m.end()) for m in pattern.finditer(text)]
            return spans

        out["commonregex 1.5"] = common
    except Exception:
        pass
    return out


def _covered(spans: list[tuple[int, int]], text: str, start: int, end: int) -> bool:
    return all(
        any(s <= i < e for s, e in spans)
        for i in range(start, end)
        if not text[i].isspace() and text[i] not in ",."
    )


def evaluate(name: str, fn: Spans, seed: int) -> dict[str, object]:
    samples = pii_samples(per_kind_locale=12, seed=seed)
    clean = clean_samples(400, seed=seed)
    labeled, dev_clean = dev_texts(DEV)
    t0 = time.perf_counter()
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in samples:
        key = f"{s.kind}/{s.form}"
        per_kind[key][1] += 1
        per_kind[key][0] += _covered(fn(s.text), s.text, s.start, s.end)
    hits = sum(v[0] for v in per_kind.values())
    clean_ok = sum(not fn(s.text) for s in clean)
    dev_hits = dev_total = 0
    for text, labels in labeled:
        spans = fn(text)
        for label in labels:
            dev_total += 1
            i = text.index(label)
            dev_hits += _covered(spans, text, i, i + len(label))
    dev_fp = sum(bool(fn(t)) for t in dev_clean)
    elapsed = time.perf_counter() - t0
    n_texts = len(samples) + len(clean) + len(labeled) + len(dev_clean)
    return {
        "name": name,
        "recall": hits / len(samples),
        "pii_samples": len(samples),
        "clean_untouched": clean_ok / len(clean),
        "clean_samples": len(clean),
        "dev_recall": dev_hits / dev_total,
        "dev_labels": dev_total,
        "dev_clean_turns_touched": dev_fp,
        "dev_clean_turns": len(dev_clean),
        "ms_per_text": 1000 * elapsed / n_texts,
        "recall_by_kind": {k: v[0] / v[1] for k, v in sorted(per_kind.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2024, help="corpus seed (tests use others)")
    args = ap.parse_args()
    systems: dict[str, Spans] = {
        "callscope": callscope_spans,
        "strategy regex": strategy_spans,
        **_optional(),
    }
    results = [evaluate(name, fn, args.seed) for name, fn in systems.items()]
    kinds = sorted({k for r in results for k in r["recall_by_kind"]})  # type: ignore[attr-defined]
    head = f"{'system':<18}{'recall':>8}{'clean ok':>10}{'dev rec':>9}{'dev FP':>8}{'ms/text':>9}"
    print(head)
    for r in results:
        print(
            f"{r['name']:<18}{r['recall']:>8.1%}{r['clean_untouched']:>10.1%}"
            f"{r['dev_recall']:>9.1%}{r['dev_clean_turns_touched']:>8}{r['ms_per_text']:>9.2f}"
        )
    print("\nrecall by kind/form")
    print(f"{'':<18}" + "".join(f"{n['name'][:12]:>14}" for n in results))
    for k in kinds:
        print(
            f"{k:<18}"
            + "".join(
                f"{r['recall_by_kind'].get(k, 0):>14.1%}"  # type: ignore[attr-defined]
                for r in results
            )
        )
    out = ROOT / "bench" / "results" / "redaction.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seed": args.seed, "results": results}, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
