"""No business words in analyzer code: they live in the profiles.

Every bundled profile's words (its name, product, company, vendor names, tool names, field
ids, value ids, synonyms, cue phrases, unit words) are looked for, case-insensitive and
word-bounded, in ``src/callscope/analyze/**`` (code, comments and docstrings alike).

``business_words_known.json`` lists the occurrences still there when this test was written
(language knowledge the engine legitimately holds, such as "next week" or "today", sits beside
real leftovers such as brand spellings in the speech-to-text repair). The test is a ratchet: a
new occurrence fails, and so does a listed one that is gone (take it off the list), so the
list only shrinks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from callscope.profile.model import Profile, bundled_profiles, load_profile

ANALYZE = Path(__file__).resolve().parents[2] / "src" / "callscope" / "analyze"
KNOWN = Path(__file__).with_name("business_words_known.json")
# Words too generic to be anyone's business: value ids of catch-all choices ("other",
# "none", "new") and answers ("yes", "no") that every language module spells.
GENERIC = frozenset({"other", "none", "new", "yes", "no"})


def profile_words(profile: Profile) -> set[str]:
    words = {profile.name, profile.product, profile.company, *profile.vendor_names}
    tools = profile.tools
    words |= {tools.knowledge_search, tools.meeting_booking, *tools.known}
    for field_id, spec in profile.fields.items():
        words |= {field_id, *spec.cues, *spec.synonyms, *spec.unit_words}
        for value_id, value in spec.values.items():
            words |= {value_id, *value.phrases()}
    return {w.lower() for w in words if w and "*" not in w} - GENERIC


def spells(text: str, word: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text) is not None


def occurrences() -> dict[str, list[str]]:
    """``{word: [files under analyze/ that spell it]}`` over every bundled profile's words."""
    words = set().union(*(profile_words(load_profile(n)) for n in bundled_profiles()))
    sources = {
        f.relative_to(ANALYZE).as_posix(): f.read_text().lower() for f in ANALYZE.rglob("*.py")
    }
    found: dict[str, list[str]] = {}
    for word in sorted(words):
        files = sorted(name for name, text in sources.items() if spells(text, word))
        if files:
            found[word] = files
    return found


def test_no_new_business_word_in_analyzer_code() -> None:
    known: dict[str, list[str]] = json.loads(KNOWN.read_text())
    now = occurrences()
    new = sorted(
        f"{w} in {f}" for w, files in now.items() for f in files if f not in known.get(w, [])
    )
    gone = sorted(
        f"{w} in {f}" for w, files in known.items() for f in files if f not in now.get(w, [])
    )
    assert not new, f"business words in analyzer code (move them to the profile): {new}"
    assert not gone, f"no longer in analyzer code, take them off {KNOWN.name}: {gone}"


def test_the_profile_words_are_collected_and_matched_as_words() -> None:
    home = profile_words(load_profile("home_services"))
    assert {"roto_rooter", "roto rooter", "schedule_service_visit", "water_heater"} <= home
    assert "other" not in home  # generic
    assert spells("# call roto rooter, then", "roto rooter")
    assert not spells("format(x)", "form") and not spells("water_heaters", "water_heater")
