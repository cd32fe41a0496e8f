"""The person being forgotten: every identifier they are known by, and how to scrub them.

An operator names the person by email, phone or participant identity. Their own calls then
add what those calls know: the participant's name, email and identity, and the name the
caller gave ("my name is Dana Whitfield", "this is Dana"). Names are found this way rather
than by an NER model: no maintained NER package here runs offline without a model download,
and the names that matter for one person are the ones their own calls state.

A call of someone else *mentions* the person when its text holds one of their emails,
identities, phone numbers (digits compared, whatever the separators) or their full name.
Such a call is kept, but scrubbed: every PII value the redactor finds, plus each of the
person's identifiers and name parts, is replaced.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callscope.governance.redact import redact_value

NAME_MARK = "[REDACTED_NAME]"
# What a raw record keeps of the caller's email after the PII period (retention).
EMAIL_DIGEST = "email_sha256"
ID_MARK = "[REDACTED_ID]"
_INTRO = re.compile(
    r"\b(?:my name is|my name's|name is|this is|call me|i am|i'm)\s+"
    r"(?P<name>[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?)"
)
# Capitalised words that follow "this is"/"I am" and are not names.
_NOT_NAMES = frozenset(
    {
        "a",
        "an",
        "the",
        "it",
        "this",
        "that",
        "great",
        "good",
        "fine",
        "perfect",
        "really",
        "very",
        "so",
        "just",
        "not",
        "sure",
        "calling",
        "with",
        "from",
        "about",
        "here",
        "there",
        "ok",
        "okay",
        "yes",
        "no",
        "hi",
        "hello",
        "thanks",
        "thank",
        "interested",
        "going",
        "looking",
        "actually",
        "definitely",
        "",
    }
)


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass
class Subject:
    """Identifiers of one person, lower-cased where case does not matter."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)  # digits only
    identities: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # full names as given

    @classmethod
    def of(
        cls,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        identities: Iterable[str] = (),
    ) -> Subject:
        s = cls()
        s.emails = {e.strip().lower() for e in emails if e.strip()}
        s.phones = {d[-10:] for p in phones if len(d := _digits(p)) >= 7}
        s.identities = {i.strip() for i in identities if i.strip()}
        return s

    @property
    def lookup_keys(self) -> list[str]:
        """What the warehouse's identity/email columns may hold."""
        return sorted(self.emails | self.identities)

    def learn_from_record(self, record: Mapping[str, Any]) -> None:
        """Add what one of the person's own records states about them."""
        participant = record.get("participant")
        if isinstance(participant, Mapping):
            for key, bucket in (("email", self.emails), ("identity", self.identities)):
                value = participant.get(key)
                if isinstance(value, str) and value.strip():
                    bucket.add(value.strip().lower() if key == "email" else value.strip())
            name = participant.get("name")
            if isinstance(name, str) and len(name.strip()) >= 3:
                self.names.add(name.strip())
        for text in _caller_texts(record):
            self.learn_from_text(text)
        for name in _names_in_tool_calls(record):
            self.names.add(name)

    def learn_from_text(self, text: str) -> None:
        for m in _INTRO.finditer(text):
            name = m["name"].strip()
            if name.split()[0].lower() not in _NOT_NAMES and len(name) >= 3:
                self.names.add(name)

    def _needle_patterns(self) -> list[re.Pattern[str]]:
        words = sorted(self.emails | self.identities, key=len, reverse=True)
        pats = [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.IGNORECASE) for w in words if w]
        for phone in sorted(self.phones):
            pats.append(re.compile(r"\D{0,3}".join(re.escape(d) for d in phone)))
        return pats

    def mentioned_in(self, text: str) -> bool:
        if not text:
            return False
        low = text.lower()
        if any(n in low for n in self.emails | {i.lower() for i in self.identities}):
            return True
        folded = _fold(low)
        if any(_fold(n.lower()) in folded for n in self.names if " " in n):
            return True
        digits = _digits(text)
        return any(p in digits for p in self.phones)

    def scrub_text(self, text: str) -> str:
        """``text`` with every PII value and every identifier/name part of the person replaced."""
        out = redact_value(text) if text else text
        if not isinstance(out, str):
            return text
        for pat in self._needle_patterns():
            out = pat.sub(ID_MARK, out)
        for part in sorted(self._name_parts(), key=len, reverse=True):
            out = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", NAME_MARK, out, flags=re.IGNORECASE)
        return out

    def scrub(self, value: Any) -> Any:
        """:meth:`scrub_text` over every string in a JSON-like value."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

    def _name_parts(self) -> set[str]:
        parts: set[str] = set()
        for name in self.names:
            for p in name.split():
                if len(p) >= 3:
                    # Speech-to-text and people drop accents: "Echeverría", "Echeverria".
                    parts.update({p, _fold(p)})
        return parts


def _caller_texts(record: Mapping[str, Any]) -> Iterable[str]:
    transcript = record.get("transcript")
    items = transcript.get("items") if isinstance(transcript, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or item.get("role") != "user":
            continue
        content = item.get("content")
        for piece in content if isinstance(content, list) else [content]:
            if isinstance(piece, str):
                yield piece


def _names_in_tool_calls(record: Mapping[str, Any]) -> Iterable[str]:
    """Names the agent wrote into a booking or CRM tool (``customer_name``, ``name``...)."""
    calls = record.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        args = call.get("arguments") if isinstance(call, Mapping) else None
        if not isinstance(args, Mapping):
            continue
        for key, value in args.items():
            if "name" in str(key).lower() and isinstance(value, str) and len(value.strip()) >= 3:
                yield value.strip()
