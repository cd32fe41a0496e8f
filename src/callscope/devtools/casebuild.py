"""Labeled cases (SessionRecord v1 + expected labels) from compact hand-written specs, any profile.

    python -m callscope.devtools.casebuild SPEC_DIR OUT_DIR --profile home_services

A spec holds what a person writes by hand: the conversation, the tool calls and the labels
that need judgement (``signals.<field>``, ``quality.natural_ending``, ``sentiment.overall``).
Everything mechanical is generated deterministically (seeded by the case id): timestamps,
per-turn metrics, function-call items, ``tool_calls``, ``usage``. Labels that follow from the
record or the profile by rule are computed, never typed: ``lead.score`` / ``lead.tier`` from
the profile's scoring points, ``tools.*`` from the tool calls and the profile's tool roles,
``quality.interruptions`` from the turns.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from callscope.generate import _Call, _iso
from callscope.yamlfile import YamlError, load_yaml_mapping

_BUNDLED = Path(__file__).resolve().parent.parent / "profile"
ALWAYS = ("quality.natural_ending", "sentiment.overall")


class SpecError(Exception):
    """A spec that cannot be built; ``str()`` names the case."""


def profile_data(name_or_path: str) -> dict[str, Any]:
    """A profile's raw YAML mapping (bundled name or path)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = _BUNDLED / f"{name_or_path}.yaml"
    try:
        data = load_yaml_mapping(path)
    except YamlError as exc:
        raise SpecError(str(exc)) from None
    if not isinstance(data.get("fields"), dict):
        raise SpecError(f"{path}: a profile with a fields: section is needed")
    return data


def band_label(bands: Sequence[Mapping[str, Any]], value: float) -> str | None:
    for band in bands:
        lo, hi = band.get("min"), band.get("max")
        if (lo is None or value >= lo) and (hi is None or value <= hi):
            return str(band["label"])
    return None


def _field_points(fspec: Mapping[str, Any], rule: Any, value: Any) -> int:
    if value is None or value == []:
        return 0
    if isinstance(rule, int):  # yes_no: points when true
        return rule if value is True else 0
    if fspec.get("kind") == "number":
        label = band_label(fspec.get("bands") or [], float(value))
        return int(rule.get(label, 0)) if label else 0
    if isinstance(value, list):
        return max((int(rule.get(v, 0)) for v in value), default=0)
    return int(rule.get(value, 0))


def rule_score(expected: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[int, str]:
    """``(score, tier)`` of the labeled signals under the profile's scoring."""
    scoring = data["scoring"]
    fields = data["fields"]
    pts = sum(
        _field_points(fields.get(name, {}), rule, expected.get(f"signals.{name}"))
        for name, rule in scoring.get("points", {}).items()
    )
    score = round(100 * pts / scoring["max_points"])
    for tier in scoring["tiers"]:
        if score >= tier["min"]:
            return score, str(tier["id"])
    return score, str(scoring.get("below_tiers", {}).get("id", "unqualified"))


def check_labels(cid: str, expected: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """Every scored or enumerated field labeled, and only with ids the profile defines."""
    for name, fspec in data["fields"].items():
        if fspec.get("kind") == "text":
            continue
        key = f"signals.{name}"
        if key not in expected:
            raise SpecError(f"{cid}: expected lacks {key} (null or [] when the call does not say)")
        ids = set((fspec.get("values") or {}).keys())
        value = expected[key]
        vals = value if isinstance(value, list) else [value]
        if ids and any(v is not None and v not in ids for v in vals):
            raise SpecError(f"{cid}: {key}={value!r} outside the profile's values")
    for key in ALWAYS:
        if key not in expected:
            raise SpecError(f"{cid}: expected lacks {key}")


def record_from_turns(
    cid: str,
    started_at: str,
    turns: Sequence[Mapping[str, Any]],
    agent: Mapping[str, str],
    slow: float = 1.0,
) -> dict[str, Any]:
    """A SessionRecord v1 dict for a scripted conversation (agent / user / tool turns)."""
    rng = random.Random(cid)
    t0 = datetime.fromisoformat(started_at.replace("Z", "+00:00")).timestamp()
    call = _Call(rng=rng, t=t0 + rng.uniform(0.5, 1.5), slow=slow, prefix=cid)
    for n, turn in enumerate(turns, 1):
        if "user" in turn:
            call.user(str(turn["user"]), turn.get("confidence"))
        elif "agent" in turn:
            call.agent(str(turn["agent"]), bool(turn.get("interrupted")))
        elif "tool" in turn:
            call.tool(
                str(turn["tool"]), dict(turn.get("args", {})), turn.get("result"), turn.get("error")
            )
        else:
            raise SpecError(f"{cid}: turn {n} is neither user, agent nor tool: {dict(turn)}")
    ended = call.t + rng.uniform(0.5, 2.0)
    return {
        "schema_version": "1",
        "session_id": f"room-{cid}",
        "agent": dict(agent),
        "started_at": _iso(t0),
        "ended_at": _iso(ended),
        "duration_seconds": round(ended - t0, 2),
        "participant": {"identity": f"sip-{cid}", "metadata": {}},
        "consent": {"recording": True, "analytics": True},
        "transcript": {"items": call.items},
        "metrics": [],
        "usage": {
            "model_usage": [
                {
                    "type": "llm_usage",
                    "provider": "openai",
                    "model": "gpt-4.1-mini",
                    "input_tokens": call.llm_in,
                    "input_cached_tokens": int(call.llm_in * 0.6),
                    "output_tokens": call.llm_out,
                },
                {
                    "type": "stt_usage",
                    "provider": "deepgram",
                    "model": "nova-3",
                    "audio_duration": round(call.stt_audio, 2),
                },
                {
                    "type": "tts_usage",
                    "provider": "cartesia",
                    "model": "sonic-2",
                    "characters_count": call.tts_chars,
                    "audio_duration": round(call.tts_audio, 2),
                },
            ]
        },
        "discovered_signals": {},
        "tool_calls": call.tool_calls,
        "connection": {
            "bandwidth_in_bytes": int((ended - t0) * 6000),
            "bandwidth_out_bytes": int((ended - t0) * 5600),
            "packet_loss_pct": round(rng.uniform(0, 1.2), 2),
            "jitter_ms": round(rng.uniform(4, 25), 1),
        },
        "errors": [],
        "close_reason": "participant_disconnected",
    }


def tool_labels(tool_calls: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> dict[str, Any]:
    """``tools.*`` labels from the calls, read through the profile's tool roles."""
    tools = data["tools"]
    kb, book = tools["knowledge_search"], tools["meeting_booking"]
    searches = [c for c in tool_calls if c["name"] == kb["name"]]

    def found(c: Mapping[str, Any]) -> bool:
        out = c["output"]
        return (
            not c["is_error"]
            and isinstance(out, dict)
            and bool(out.get(kb["success_key"]))
            and bool(out.get(kb.get("results_key") or kb["success_key"]))
        )

    return {
        "tools.kb_searches": len(searches),
        "tools.kb_failed_searches": sum(1 for c in searches if not found(c)),
        "tools.meeting_booked": any(
            c["name"] == book["name"]
            and not c["is_error"]
            and isinstance(c["output"], dict)
            and c["output"].get(book["success_key"]) is True
            for c in tool_calls
        ),
    }


def build_case(spec: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    cid = str(spec["id"])
    agent = spec.get("agent", {"name": f"{data['name']}-agent", "version": "1.0.0"})
    slow = {"fast": 0.7, "normal": 1.0, "slow": 2.2}[spec.get("latency", "normal")]
    record = record_from_turns(cid, spec["started_at"], spec["turns"], agent, slow)
    expected = dict(spec["expected"])
    check_labels(cid, expected, data)
    expected["lead.score"], expected["lead.tier"] = rule_score(expected, data)
    expected.update(tool_labels(record["tool_calls"], data))
    expected["quality.interruptions"] = sum(
        1 for t in spec["turns"] if "agent" in t and t.get("interrupted")
    )
    return {"record": record, "expected": dict(sorted(expected.items()))}


def build_dir(src: Path, out: Path, data: Mapping[str, Any]) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    tiers = []
    for path in sorted(src.glob("*.json")):
        case = build_case(json.loads(path.read_text(encoding="utf-8")), data)
        (out / path.name).write_text(
            json.dumps(case, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        tiers.append(str(case["expected"]["lead.tier"]))
    return tiers


def main(argv: Sequence[str]) -> int:
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--profile"):
        print("usage: python -m callscope.devtools.casebuild SPEC_DIR OUT_DIR [--profile NAME]")
        return 2
    data = profile_data(argv[3] if len(argv) == 4 else "home_services")
    tiers = build_dir(Path(argv[0]), Path(argv[1]), data)
    counts = ", ".join(f"{t}={tiers.count(t)}" for t in sorted(set(tiers)))
    print(f"built {len(tiers)} cases into {argv[1]}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
