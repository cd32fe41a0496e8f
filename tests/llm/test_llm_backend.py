"""The LLM analyzers against local servers speaking the Anthropic and OpenAI wire formats."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from callscope.analyze import contract_output
from callscope.analyze.registry import Registry
from callscope.analyze.registry import registry as default_registry
from callscope.config import ConfigError, Settings
from callscope.llm import RetryPolicy, build_llm_registry, make_client
from callscope.llm.cost import call_cost, find_price
from callscope.llm.prompts import MAX_TRANSCRIPT_CHARS, render_transcript
from callscope.profile import load_profile
from callscope.profile.model import LlmPrice
from tests.llm.conftest import (
    FakeLLMServer,
    Reply,
    anthropic_error,
    anthropic_tool_reply,
    dev_case,
    openai_error,
    openai_reply,
    view_of,
)

PROFILE = load_profile("pandadoc_trial")
FAST = RetryPolicy(max_retries=2, backoff_initial_s=0.01, backoff_max_s=0.02)
ANTHROPIC_MODEL = "claude-3-5-haiku-latest"
OPENAI_MODEL = "gpt-4.1-mini"

# dev_001: a brokerage, 26 agents, fifteen agreements a day, HubSpot, on DocuSign.
GOOD: dict[str, Any] = {
    "team_size": 26,
    "monthly_volume": 315,
    "integrations": ["hubspot"],
    "current_tool": "docusign",
    "competitors": ["docusign"],
    "objections": [],
    "use_case": "contracts",
    "industry": "real_estate",
    "budget_authority": "decision_maker",
    "timeline": "this_month",  # not stated: the offline analyzer says null, so it shows
    "pain_points": [{"quote": "that's the part that's clunky for us now", "turn": 13}],
    "decision_makers": [],
    "next_steps": ["Walk through HubSpot setup with a specialist"],
    "evidence": [
        {"signal": "team_size", "quote": "well, actually twenty six now", "turn": 7},
        {"signal": "monthly_volume", "quote": "i'd say fifteen a day, give or take", "turn": 9},
        {"signal": "industry", "quote": "we're a brokerage here in austin", "turn": 3},
        {"signal": "team_size", "quote": "we have fifty agents in two offices", "turn": 7},
        {"signal": "industry", "quote": "Hi, this is Ava from the PandaDoc", "turn": 0},
    ],
}
SUMMARY = {
    "sentences": [
        "A 26-agent real estate brokerage wants PandaDoc for contracts, about 315 a month.",
        "Tier 1 lead; a demo with a specialist is booked.",
    ]
}


def _registry(
    server: FakeLLMServer,
    backend: str,
    *,
    policy: RetryPolicy = FAST,
    timeout_s: float = 5.0,
    redact: bool = True,
) -> Registry:
    settings = Settings(
        analysis_backend=backend,
        llm_model=ANTHROPIC_MODEL if backend == "anthropic" else OPENAI_MODEL,
        llm_base_url=server.url if backend == "anthropic" else f"{server.url}/v1",
        llm_api_key="sk-test-not-a-real-key",
        llm_timeout_s=timeout_s,
        llm_redact_pii=redact,
    )
    return build_llm_registry(PROFILE, settings, client=make_client(settings, policy))


def _run(registry: Registry, record: dict[str, Any]) -> dict[str, Any]:
    return contract_output(registry.run(view_of(record), PROFILE))


def _offline(record: dict[str, Any]) -> dict[str, Any]:
    return contract_output(default_registry.run(view_of(record), PROFILE))


def _sales_only(output: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in output["sales"].items() if k != "llm"}


def _anthropic_ok(server: FakeLLMServer) -> None:
    server.script.append(Reply(body=anthropic_tool_reply("record_sales_signals", GOOD)))
    server.script.append(Reply(body=anthropic_tool_reply("write_summary", SUMMARY)))


# --- the answer is used -----------------------------------------------------------------------
def test_anthropic_structured_answer_is_used(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    _anthropic_ok(server)
    out = _run(_registry(server, "anthropic"), record)
    sales = out["sales"]
    assert sales["timeline"] == "this_month"
    assert (sales["team_size"], sales["monthly_volume"]) == (26, 315)
    assert sales["integrations"] == ["hubspot"] and sales["industry"] == "real_estate"
    meta = sales["llm"]
    assert meta["used"] is True and meta["backend"] == "anthropic"
    assert meta["model"] == "claude-3-5-haiku-20241022" and meta["attempts"] == 1
    assert meta["offline_differs"] == {"timeline": None}
    # 2095 in, 503 out at the profile's claude-3-5-haiku price (0.80 / 4.00 per million).
    assert meta["cost_usd"] == pytest.approx((2095 * 0.80 + 503 * 4.00) / 1e6)
    assert meta["latency_ms"] > 0
    # A quote not in the cited turn, and a quote from the agent's turn, are dropped.
    assert [e["turn"] for e in sales["evidence"]["team_size"]] == [7]
    assert "industry" in sales["evidence"] and len(sales["evidence"]["industry"]) == 1
    assert len(meta["dropped"]["evidence"]) == 2
    assert sales["next_steps"][0] == "meeting_booked"  # from the booking tool, kept
    assert out["lead"]["score"] > _offline(record)["lead"]["score"]  # timeline points
    assert out["summary"] == " ".join(SUMMARY["sentences"])
    assert out["analyzer_versions"]["sales"].startswith(f"llm-1.0.0+{ANTHROPIC_MODEL}+")
    assert out["analyzer_versions"]["summary"].startswith(f"llm-1.0.0+{ANTHROPIC_MODEL}+")
    assert out["analyzer_versions"]["quality"] == default_registry.versions(PROFILE)["quality"]


def test_anthropic_request_shape(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    _anthropic_ok(server)
    _run(_registry(server, "anthropic"), record)
    sales_req = server.seen[0]
    assert sales_req.path == "/v1/messages"
    auth = sales_req.headers.get("x-api-key") or sales_req.headers.get("authorization", "")
    assert auth.endswith("sk-test-not-a-real-key")
    assert sales_req.headers.get("anthropic-version")
    body = sales_req.body
    assert body["model"] == ANTHROPIC_MODEL and body["max_tokens"] > 0
    assert body["tool_choice"] == {"type": "tool", "name": "record_sales_signals"}
    schema = body["tools"][0]["input_schema"]
    props = schema["properties"]
    assert props["integrations"]["items"]["enum"] == list(PROFILE.signals.integrations)
    assert props["objections"]["items"]["enum"] == list(PROFILE.signals.objections)
    industry = props["industry"]["anyOf"][0]["enum"]
    assert industry == list(PROFILE.signals.industry)
    assert set(props["current_tool"]["anyOf"][0]["enum"]) == PROFILE.value_ids("current_tool")
    assert "weekly figures x 4.33" in body["system"].lower()
    assert "- real_estate (e.g." in body["system"]
    user = body["messages"][0]["content"]
    assert "[7] caller: so we've got thirty agents" in user
    assert "[6] agent: Got it" in user


def test_only_the_transcript_leaves(server: FakeLLMServer) -> None:
    record, expected = dev_case("dev_001")
    _anthropic_ok(server)
    _run(_registry(server, "anthropic"), record)
    sent = " ".join(s.raw for s in server.seen)
    # Participant metadata, tool arguments and outputs, usage and ids stay home.
    for private in (
        "Echeverr",
        "google_ads",
        "business_trial",
        "trial_day",
        "HubSpot integration contracts real estate",
        "14:30",
        record["session_id"],
        record["participant"]["identity"],
    ):
        assert private not in sent, private
    # The PII said in the call is redacted before it is sent (llm_redact_pii defaults to true).
    for pii in expected["pii"]:
        assert pii not in sent
    assert "[REDACTED_EMAIL]" in sent


def test_redaction_can_be_turned_off(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    _anthropic_ok(server)
    out = _run(_registry(server, "anthropic", redact=False), record)
    assert "marisol@hillcountryhomes.com" in server.seen[0].raw
    assert out["sales"]["llm"]["redacted"] is False


def test_openai_structured_answer_and_request(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.script.append(Reply(body=openai_reply(json.dumps(GOOD))))
    server.script.append(Reply(body=openai_reply(json.dumps(SUMMARY))))
    out = _run(_registry(server, "openai"), record)
    assert out["sales"]["timeline"] == "this_month" and out["sales"]["llm"]["used"] is True
    # 1000 fresh + 1000 cached in, 400 out at gpt-4.1-mini's price (0.40 / 0.10 / 1.60).
    expected_cost = (1000 * 0.40 + 1000 * 0.10 + 400 * 1.60) / 1e6
    assert out["sales"]["llm"]["cost_usd"] == pytest.approx(expected_cost)
    assert out["summary"].startswith("A 26-agent real estate brokerage")
    req = server.seen[0]
    assert req.path == "/v1/chat/completions"
    assert req.headers.get("authorization") == "Bearer sk-test-not-a-real-key"
    fmt = req.body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert schema["properties"]["timeline"]["anyOf"][0]["enum"] == list(PROFILE.signals.timeline)
    assert [m["role"] for m in req.body["messages"]] == ["system", "user"]
    summary_user = server.seen[1].body["messages"][1]["content"]
    assert '"lead_tier": "tier_1"' in summary_user and '"meeting_booked": true' in summary_user


# --- retries --------------------------------------------------------------------------------
def test_429_then_success_is_retried(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.script.append(
        Reply(429, anthropic_error(429, "rate_limit_error"), headers={"retry-after": "0"})
    )
    server.script.append(Reply(529, anthropic_error(529, "overloaded_error")))
    _anthropic_ok(server)
    out = _run(_registry(server, "anthropic"), record)
    assert out["sales"]["llm"]["used"] is True and out["sales"]["llm"]["attempts"] == 3
    assert len(server.seen) == 4


def test_500_forever_falls_back_to_offline(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.default = Reply(500, openai_error("The server had an error", "server_error"))
    out = _run(_registry(server, "openai"), record)
    offline = _offline(record)
    assert _sales_only(out) == offline["sales"]
    assert out["summary"] == offline["summary"]
    assert out["lead"] == offline["lead"]
    meta = out["sales"]["llm"]
    assert meta["used"] is False and meta["attempts"] == 3
    assert meta["fallback"] == "HTTP 500 (InternalServerError) after 3 attempts"
    assert "errors" not in out
    assert len(server.seen) == 6  # three tries for sales, three for the summary


def test_client_error_is_not_retried(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.default = Reply(400, anthropic_error(400, "invalid_request_error"))
    out = _run(_registry(server, "anthropic"), record)
    assert out["sales"]["llm"]["fallback"] == "HTTP 400 (BadRequestError)"
    assert len(server.seen) == 2  # one per analyzer


@pytest.mark.parametrize("backend", ["anthropic", "openai"])
def test_timeout_falls_back(server: FakeLLMServer, backend: str) -> None:
    record, _ = dev_case("dev_004")
    body = (
        anthropic_tool_reply("record_sales_signals", GOOD)
        if backend == "anthropic"
        else openai_reply(json.dumps(GOOD))
    )
    server.default = Reply(body=body, delay_s=0.6)
    policy = RetryPolicy(max_retries=1, backoff_initial_s=0.01, backoff_max_s=0.02)
    out = _run(_registry(server, backend, policy=policy, timeout_s=0.15), record)
    offline = _offline(record)
    assert _sales_only(out) == offline["sales"]
    assert out["sales"]["llm"]["fallback"] == "timeout after 2 attempts"
    assert out["sales"]["llm"]["latency_ms"] < 1500


def test_connection_refused_falls_back() -> None:
    record, _ = dev_case("dev_004")
    dead = FakeLLMServer()
    dead.close()  # the port is free again: nothing listens
    out = _run(_registry(dead, "anthropic"), record)
    assert out["sales"]["llm"]["fallback"] == "connection failed after 3 attempts"
    assert _sales_only(out) == _offline(record)["sales"]


# --- bad answers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"team_size": 26, "integrations": [', "invalid JSON in the response"),
        ("[1, 2]", "the response is JSON list, not an object"),
        (
            json.dumps({**GOOD, "team_size": "a couple dozen"}),
            "response does not match the schema",
        ),
        (json.dumps({k: v for k, v in GOOD.items() if k != "industry"}), "Field required"),
    ],
)
def test_malformed_answers_fall_back(server: FakeLLMServer, content: str, reason: str) -> None:
    record, _ = dev_case("dev_001")
    server.default = Reply(body=openai_reply(content))
    out = _run(_registry(server, "openai"), record)
    assert _sales_only(out) == _offline(record)["sales"]
    assert reason in out["sales"]["llm"]["fallback"]
    assert out["sales"]["llm"]["cost_usd"] is not None  # a billed answer is still counted


def test_truncated_and_refused_answers_fall_back(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.script.append(Reply(body=openai_reply('{"team_size": 2', finish="length")))
    refusal = openai_reply("")
    refusal["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "No."}
    server.script.append(Reply(body=refusal))  # the summary's call
    results = _registry(server, "openai").run(view_of(record), PROFILE).results()
    assert results["sales"]["llm"]["fallback"] == (
        "the response was cut off at max_completion_tokens"
    )
    assert results["summary"]["llm"]["fallback"] == "the model refused: No."
    assert results["summary"]["text"] == _offline(record)["summary"]


def test_anthropic_text_instead_of_tool_falls_back(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    reply = anthropic_tool_reply("record_sales_signals", GOOD)
    reply["content"] = [{"type": "text", "text": "Here are the signals: ..."}]
    reply["stop_reason"] = "end_turn"
    server.default = Reply(body=reply)
    out = _run(_registry(server, "anthropic"), record)
    assert (
        out["sales"]["llm"]["fallback"]
        == "no record_sales_signals tool call in the response (got text)"
    )


def test_out_of_vocabulary_values_are_dropped(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    offline = _offline(record)
    answer = copy.deepcopy(GOOD)
    answer.update(
        integrations=["HubSpot", "oracle_erp"],
        competitors=["docusign", "pandadoc"],
        industry="proptech",
        use_case="Contracts",
        team_size=-3,
    )
    server.script.append(Reply(body=openai_reply(json.dumps(answer))))
    server.script.append(Reply(body=openai_reply(json.dumps(SUMMARY))))
    out = _run(_registry(server, "openai"), record)
    sales = out["sales"]
    assert sales["integrations"] == ["hubspot"] and sales["competitors"] == ["docusign"]
    assert sales["use_case"] == "contracts"
    # A scalar outside the vocabulary or range takes the offline value for that field.
    assert sales["industry"] == offline["sales"]["industry"]
    assert sales["team_size"] == offline["sales"]["team_size"]
    meta = sales["llm"]
    assert meta["used"] is True
    assert meta["dropped"]["integrations"] == ["oracle_erp"]
    assert meta["dropped"]["competitors"] == ["pandadoc"]
    assert meta["field_fallbacks"] == {
        "industry": "out of vocabulary: 'proptech'",
        "team_size": "out of range: -3",
    }


def test_summary_checks(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    long_summary = {"sentences": ["One.", "Two.", "Three.", "Four.", "Mail marisol@x.com."]}
    server.script.append(Reply(body=openai_reply(json.dumps(GOOD))))
    server.script.append(Reply(body=openai_reply(json.dumps(long_summary))))
    registry = _registry(server, "openai")
    run = registry.run(view_of(record), PROFILE)
    summary = run.results()["summary"]
    assert summary["text"] == "One. Two. Three." and summary["sentences"] == 3
    assert summary["llm"]["dropped"] == {"sentences": ["Four.", "Mail [REDACTED_EMAIL]."]}
    server.script.append(Reply(body=openai_reply(json.dumps(GOOD))))
    server.script.append(Reply(body=openai_reply(json.dumps({"sentences": [" "]}))))
    summary = registry.run(view_of(record), PROFILE).results()["summary"]
    assert summary["llm"]["fallback"] == "ValueError: the summary is empty"
    # The offline summary stands in, written from this run's (LLM) sales and lead results.
    assert summary["text"].startswith("Hill Country Homes Realty (real estate)")
    assert "Lead tier 1 (score 89)" in summary["text"]


# --- consent and the pipeline -----------------------------------------------------------------
def test_no_analytics_consent_sends_nothing(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    record = {**record, "consent": {**record["consent"], "analytics": False}}
    _anthropic_ok(server)
    out = _run(_registry(server, "anthropic"), record)
    assert server.seen == []
    assert out["skipped"]["sales"] == "no analytics consent"


def test_no_caller_turns_sends_nothing(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_004")
    items = record["transcript"]["items"]
    record = {
        **record,
        "transcript": {
            **record["transcript"],
            "items": [i for i in items if i.get("role") != "user"],
        },
    }
    out = _run(_registry(server, "anthropic"), record)
    assert server.seen == [] and out["sales"]["llm"]["fallback"] == "no caller turns"


def test_every_dev_record_survives_a_broken_server(
    server: FakeLLMServer, dev_cases: list[Any]
) -> None:
    server.default = Reply(200, "<html>502 Bad Gateway</html>")
    registry = _registry(server, "openai", policy=RetryPolicy(max_retries=0))
    for path in dev_cases:
        record = json.loads(path.read_text(encoding="utf-8"))["record"]
        out = _run(registry, record)
        offline = _offline(record)
        assert "errors" not in out, path.name
        assert _sales_only(out) == offline["sales"], path.name
        assert out["summary"] == offline["summary"], path.name
        assert out["sales"]["llm"]["used"] is False


# --- configuration and pieces -------------------------------------------------------------------
def test_offline_backend_returns_the_default_registry() -> None:
    assert build_llm_registry(PROFILE, Settings()) is default_registry


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"analysis_backend": "anthropic"}, "needs llm_model (CALLSCOPE_LLM_MODEL)"),
        (
            {"analysis_backend": "openai", "llm_model": "gpt-4.1-mini"},
            "needs an API key: CALLSCOPE_LLM_API_KEY or OPENAI_API_KEY",
        ),
    ],
)
def test_config_errors_are_one_line(
    fields: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("CALLSCOPE_LLM_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="needs") as err:
        build_llm_registry(PROFILE, Settings(**fields))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_provider_key_variable_and_keyless_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSCOPE_LLM_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    client = make_client(Settings(analysis_backend="anthropic", llm_model="claude-x"))
    assert client.provider == "anthropic"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    local = Settings(
        analysis_backend="openai", llm_model="llama3.1", llm_base_url="http://127.0.0.1:11434/v1"
    )
    assert make_client(local).model == "llama3.1"


def test_self_hosted_models_are_not_priced_by_wildcard(server: FakeLLMServer) -> None:
    record, _ = dev_case("dev_001")
    server.script.append(Reply(body=openai_reply(json.dumps(GOOD), model="llama3.1:8b")))
    server.script.append(Reply(body=openai_reply(json.dumps(SUMMARY), model="llama3.1:8b")))
    out = _run(_registry(server, "openai"), record)
    assert out["sales"]["llm"]["cost_usd"] is None and out["sales"]["llm"]["used"] is True


def test_price_lookup_and_cost() -> None:
    table = PROFILE.prices.llm
    assert find_price(table, "openai", "gpt-4.1-mini-2025-04-14") == table["openai/gpt-4.1-mini"]
    assert find_price(table, "openai", "some-new-model") == table["openai/*"]
    assert find_price(table, "openai", "some-new-model", allow_wildcard=False) is None
    assert find_price(table, "anthropic", "claude-sonnet-4-5") is None
    price = LlmPrice(input_per_million=1.0, output_per_million=10.0, cached_input_per_million=0.1)
    assert call_cost(price, 1_000_000, 100_000, cached=500_000) == pytest.approx(0.5 + 0.05 + 1.0)


def test_long_transcripts_keep_both_ends() -> None:
    record, _ = dev_case("dev_003")
    items = record["transcript"]["items"]
    messages = [i for i in items if i.get("type") == "message"]
    record = {
        **record,
        "transcript": {**record["transcript"], "items": items + messages * 40},
    }
    view = view_of(record)
    sent = render_transcript(view, redact=False)
    assert sent.truncated and len(sent.text) <= MAX_TRANSCRIPT_CHARS + 10
    assert sent.text.startswith("[0] ") and "[...]" in sent.text
    assert f"[{view.turns[-1].index}] " in sent.text
