"""Raw speech-to-text made readable, once per call, before any analyzer reads a word.

STT engines without formatting hand over "um so we we have like twelve people and then the
docu sign contract is up in march can you tell me how much it is". Every clause- and
question-based reader needs what a writer would add back. This module does it with generic
language knowledge only; the one business input is the profile's own phrases, used to fuse a
brand heard as two words back into the form the profile lists ("docu sign" -> "docusign").

Steps, in order: fillers out (um, uh, "you know", filler "like"), restarts collapsed ("we we
have" -> "we have"), split phrases fused, and, for a turn with no punctuation at all, clause
and sentence boundaries put back at discourse markers and question starts. Number words are
left to :func:`callscope.analyze.text.normalize.to_digits`, which readers already apply after
blanking spoken phone numbers and emails (converting them here would turn a phone number into
a count).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from callscope.analyze.text.vocab import profile_phrases
from callscope.analyze.view import CallView

# Hesitations that never carry meaning ("uh huh" and "mm hmm" do: they are a yes).
_HESITATION = re.compile(r"\b(?:u+m+|u+h+|e+r+m+|uhm+)\b(?! huh)\s*")
# "you know" as a filler: not "do you know", "if you know", "you know what/how/if...".
_YOU_KNOW = re.compile(
    r"(?<!\bdo )(?<!\bdid )(?<!\bdon't )(?<!\bif )(?<!\bas )(?<!\bwould )(?<!\bthat )"
    r"(?<!\bcould )(?<!\bcan )(?<!\bto )\byou know\b"
    r"(?! what| how| if| whether| where| when| who| why| about| of| that| him| her| them| it\b)\s*"
)
# "i mean" as a filler, not "what i mean" / "do i mean".
_I_MEAN = re.compile(r"(?<!\bwhat )(?<!\bdo )(?<!\bif )\bi mean\b(?! it| that| to| the)\s*")
# "like" opening a turn ("like yes definitely") is always a filler.
_LEADING_LIKE = re.compile(r"^like (?=[a-z])")
# "like" as a filler: before a number or a hedge ("like twelve", "like about"), or where a
# verb cannot follow it ("we like have", "it's like a"). Kept after the words that take it
# as a verb or a comparison ("i'd like", "something like", "looks like", "feel like").
_LIKE_KEEP = (
    r"(?<!\bi )(?<!\bwe )(?<!\byou )(?<!\bthey )(?<!\bwould )(?<!'d )(?<!\bdon't )"
    r"(?<!\bdidn't )(?<!\breally )(?<!\bjust )(?<!\balso )(?<!\blooks )(?<!\blook )"
    r"(?<!\bsounds )(?<!\bfeel )(?<!\bfeels )(?<!\bsomething )(?<!\bthings )(?<!\bstuff )"
    r"(?<!\bmore )(?<!\bmuch )(?<!\bnothing )(?<!\banything )(?<!\bseems )(?<!\bwhat )"
    r"(?<!\bjust )(?<!\bnot )(?<!\bdoesn't )(?<!\bkind of )(?<!\bsort of )"
)
_FILLER_LIKE = re.compile(
    _LIKE_KEEP + r"\blike\b(?= (?:um|uh|a|an|the|about|maybe|around|\d|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|a hundred|have|has|had|we|i|it|it's|they|so|just|really|totally)\b)\s*"
)
# A word or two said twice in a row: a restart. Number words are left alone ("twenty twenty").
_RESTART = re.compile(r"\b((?:[a-z']+ ){1,3}?)\1+")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|oh|zero|double|\d+)\b"
)
_KEEP_DOUBLE = frozenset({"bye", "ha", "no", "very", "so", "had"})


def remove_fillers(low: str) -> str:
    """Hesitations and filler phrases out of lower-case text."""
    if "um" in low or "uh" in low or "erm" in low:
        low = _HESITATION.sub("", low)
    if "you know" in low:
        low = _YOU_KNOW.sub("", low)
    if "i mean" in low:
        low = _I_MEAN.sub("", low)
    if "like" in low:
        low = _LEADING_LIKE.sub("", _FILLER_LIKE.sub("", low))
    return " ".join(low.split())


def _collapse(m: re.Match[str]) -> str:
    unit = m.group(1)
    words = unit.split()
    if _NUMBER_WORD.search(unit) or (len(words) == 1 and words[0] in _KEEP_DOUBLE):
        return m.group()
    return unit


def collapse_restarts(low: str) -> str:
    """ "we we have" -> "we have", "i think i think it's" -> "i think it's"."""
    return _RESTART.sub(_collapse, low + " ").strip()


_WORD = re.compile(r"[A-Za-z0-9']+")
# A two-word split is only fused where the pair cannot be an ordinary phrase: after a verb
# particle ("sign now", "drop in") it is left unless a word that introduces a product precedes.
_PARTICLES = frozenset(
    {"now", "up", "in", "out", "on", "off", "back", "over", "down", "it", "away"}
)
_INTRODUCES = frozenset(
    [
        "use",
        "used",
        "using",
        "uses",
        "with",
        "from",
        "via",
        "like",
        "tried",
        "try",
        "called",
        "plus",
        "through",
        "into",
        "switched",
        "switching",
        "moved",
        "the",
        "our",
        "their",
        "a",
        "an",
    ]
)


@dataclass(frozen=True)
class Fuser:
    """Joins words the profile lists as one ("docusign") when STT splits them ("docu sign")."""

    joined: dict[str, str]  # "docusign" -> "docusign"; "rotorooter" -> "roto rooter"
    phrases: frozenset[str]

    @classmethod
    def from_phrases(cls, phrases: Iterable[str]) -> Fuser:
        joined: dict[str, str] = {}
        plist = [p for p in phrases if p]
        for p in plist:
            key = p.replace(" ", "").replace("-", "").replace(".", "")
            if len(key) >= 5 and key.isalnum():
                joined.setdefault(key, p)
        return cls(joined, frozenset(plist))

    def break_after_names(self, low: str) -> str:
        """A new sentence where a subject starts right after a name the profile lists:
        "docusign we're on docusign we were on hellosign" -> "docusign. we're on docusign. ..."."""
        if not self.phrases or not _SUBJECT.search(low):
            return low
        return _SUBJECT.sub(lambda m: "\x00" if self._ends_name(low, m.start()) else m.group(), low)

    def _ends_name(self, low: str, at: int) -> bool:
        before = low[:at].split()
        return any(
            " ".join(before[-n:]) in self.phrases and len(before[-1]) >= 4
            for n in (1, 2, 3)
            if len(before) >= n
        )

    def fuse(self, text: str) -> str:
        """``text`` with split phrases joined; other characters (case, punctuation) kept."""
        if not self.joined:
            return text
        spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        words = [text[a:b].lower() for a, b in spans]
        pieces: list[str] = []
        last_end, i, before = 0, 0, ""
        while i < len(words):
            hit = self._match(words, i, before)
            if hit is None:
                before = words[i]
                i += 1
                continue
            phrase, used = hit
            pieces.append(text[last_end : spans[i][0]] + phrase)
            last_end = spans[i + used - 1][1]
            before = phrase
            i += used
        pieces.append(text[last_end:])
        return "".join(pieces)

    def _match(self, words: list[str], i: int, before: str) -> tuple[str, int] | None:
        for n in (3, 2, 1):
            parts = words[i : i + n]
            if len(parts) < n or (n == 1 and len(parts[0]) < 6):
                continue
            spaced = " ".join(parts)
            key = "".join(parts)
            phrase = self.joined.get(key)
            if phrase is None or phrase == spaced:
                if spaced in self.phrases:
                    return None  # already the profile's own wording
                continue
            if parts[-1] in _PARTICLES and before not in _INTRODUCES:
                continue
            return phrase, n
        return None


# A subject starting a clause: "we're", "we were", "i'm", "they use" ...
_SUBJECT = re.compile(r" (?=(?:we|i|they|it|he|she)(?:'re|'m|'s|'ve|'ll|'d)?\b )")
# Turn-opening answers that take a comma before the rest ("no it's not" -> "no, it's not").
_OPENERS = (
    r"yes|yeah|yep|yup|no|nope|nah|okay|ok|sure|right|well|hi|hello|hey|thanks|thank you|"
    r"sorry|oh|alright|all right|great|perfect|cool|absolutely|exactly|actually|honestly|so"
)
# Apologies and interruptions always open a clause of their own ("sorry say that again").
_APOLOGY = re.compile(r"^((?:i'm )?(?:sorry|pardon|pardon me|excuse me|wait|hold on)) (?=[a-z])")
_OPENER = re.compile(
    rf"^((?:{_OPENERS})(?: (?:{_OPENERS}))?) (?=(?:i|i'm|i've|i'd|we|we're|we've|it|it's|"
    r"that|that's|they|they're|you|the|our|my|there|not|just|but|and|so|what|how|when|"
    r"can|could|do|does|is|are|we'll|i'll|this|let's|let|go|please|actually|um|uh)\b)"
)
# Discourse markers that start a new clause mid-turn.
_MARKERS = re.compile(
    r" (?=(?:so|but|and then|and also|yeah|okay|anyway|because|"
    r"plus|although|however|otherwise|meanwhile|oh and|sorry)\b )"
)
# Question starts: a question word or an inverted auxiliary followed by what questions take.
_QUESTION_BODY = (
    r"(?:what(?:'s| is| are| was| do| does| did| would| will| can| about| if| kind| happens)"
    r"|how (?:much|many|long|soon|often|do|does|did|would|will|is|are|can|about|fast)"
    r"|when (?:do|does|did|would|will|is|are|can|could)"
    r"|where (?:do|does|is|are|can|would)|who (?:is|are|do|does|would|will|did)"
    r"|why (?:do|does|is|are|would|did)|which (?:one|plan|of)"
    r"|(?:can|could|would|will|do|does|did|is|are|should) (?:you|i|we|it|they|there|that|this)"
    r"|is there|are there)\b"
)
# Mid-turn, not after words that embed it ("tell me how much", "not sure what it is") or
# inside a question already begun ("how much is it", "what did you say").
_QUESTION_START = re.compile(
    r"(?<=[a-z'] )(?<!\band )(?<!\bbut )(?<!\bso )(?<!\bokay )(?<!\bor )(?<!\bme )(?<!\btell )"
    r"(?<!\bout )(?<!\bwhat )(?<!\bhow )(?<!\bwhy )(?<!\bwho )"
    r"(?<!\bwhere )(?<!\bwhen )(?<!\bwhich )(?<!\bmuch )(?<!\bmany )(?<!\blong )(?<!\bif )"
    r"(?<!\bknow )(?<!\bsure )(?<!\bwondering )(?<!\bask )(?<!\bidea )(?<!\bsee )"
    r"(?<!\bunderstand )(?<!\bremember )(?<!\bthat's )(?<!\bis )(?<!\bthat )"
    rf"\b(?={_QUESTION_BODY})"
)
_QUESTION_OPEN = re.compile(_QUESTION_BODY)
_WH = frozenset({"what", "which", "who", "where", "when", "how", "why", "huh", "pardon"})
# An apology before a question mid-turn opens it: "nice sorry did you say a channel".
_APOLOGY_MID = re.compile(rf"\b(sorry|pardon|wait) (?={_QUESTION_BODY})")


def _is_question(clause: str) -> bool:
    return bool(_QUESTION_OPEN.match(clause))


def _split_questions(text: str) -> str:
    """A question start mid-turn begins a new sentence, at least three words after the last."""
    out, last = [], 0
    for m in _QUESTION_START.finditer(text):
        if len(text[last : m.start()].split()) >= 3:
            out.append(text[last : m.start()])
            last = m.start()
    out.append(text[last:])
    return "\x00".join(out)


def _is_question_sentence(sentence: str) -> bool:
    """A sentence asks when a clause of it opens like a question, or it is a short wh-fragment
    ("what time", "which one", "what")."""
    clauses = sentence.split(", ")
    if any(_is_question(c) for c in (clauses[0], clauses[-1])):
        return True
    words = clauses[-1].split()
    return bool(words) and words[0] in _WH and len(words) <= 4


def restore_punctuation(low: str) -> str:
    """Clause commas and sentence ends for a turn STT left unpunctuated."""
    text = _OPENER.sub(r"\1, ", low, count=1)
    text = _APOLOGY.sub(r"\1, ", text, count=1)
    text = _MARKERS.sub(", ", text)
    text = _APOLOGY_MID.sub(r"\1, ", text)
    # A question start mid-turn begins a new sentence ("... march can you tell me ...").
    text = _split_questions(text)
    out = []
    for s in (s.strip(" ,") for s in text.split("\x00")):
        if s:
            out.append(s + ("?" if _is_question_sentence(s) else "."))
    return " ".join(out)


_PUNCTUATED = re.compile(r"[.?!,;]")


def repair(text: str, fuser: Fuser | None = None) -> str:
    """One turn of raw STT made readable; punctuated (formatted) text is returned unchanged."""
    if _PUNCTUATED.search(text):
        # Formatted text: a writer chose "our sales force" over "salesforce"; left as it is.
        return text
    low = " ".join(text.lower().split())
    low = collapse_restarts(remove_fillers(low))
    if fuser is not None:
        low = fuser.break_after_names(fuser.fuse(low))
    return restore_punctuation(low) if low else low


_FUSERS: dict[int, tuple[Any, Fuser]] = {}


def fuser_for(profile: Any) -> Fuser:
    """The profile's fuser, built once per profile object."""
    hit = _FUSERS.get(id(profile))
    if hit is not None and hit[0] is profile:
        return hit[1]
    fuser = Fuser.from_phrases(profile_phrases(profile))
    if len(_FUSERS) > 32:
        _FUSERS.clear()
    _FUSERS[id(profile)] = (profile, fuser)
    return fuser


def repair_view(view: CallView, profile: Any) -> CallView:
    """``view`` with every turn's text repaired; the same object when nothing changed."""
    fuser = fuser_for(profile)
    turns = []
    changed = False
    for t in view.turns:
        text = repair(t.text, fuser) if t.text else t.text
        if text != t.text:
            changed = True
            t = replace(t, text=text)
        turns.append(t)
    return replace(view, turns=tuple(turns)) if changed else view
