"""LLM clients: one call that returns a JSON object matching a schema.

Two backends over the official SDKs: Anthropic's Messages API (a forced tool call carries the
structured output) and OpenAI's Chat Completions with ``response_format=json_schema`` (which
any OpenAI-compatible server speaks: vLLM, Ollama, Azure, LiteLLM...). The SDKs' own retries
are turned off so one policy (tenacity: 429, 5xx, timeouts and dropped connections, with
exponential backoff and ``Retry-After``) holds for both and is visible in the attempt count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

if TYPE_CHECKING:
    from anthropic.types import ToolParam

T = TypeVar("T")
_MAX_RETRY_AFTER_S = 30.0


class LLMError(Exception):
    """An LLM call that produced no usable answer; ``str()`` is a one-line reason."""

    def __init__(self, reason: str, *, attempts: int = 1) -> None:
        super().__init__(reason)
        self.attempts = attempts
        self.billed: LLMReply | None = None  # the usage of an answer that came back unusable


@dataclass(frozen=True)
class LLMReply:
    data: dict[str, Any]
    model: str  # as the server reports it
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    latency_ms: float  # wall time of all attempts
    attempts: int


class LLMClient(Protocol):
    provider: str  # "anthropic" or "openai": the key prefix in the profile's price table
    model: str

    def complete_json(
        self, *, system: str, user: str, name: str, schema: Mapping[str, Any], max_tokens: int
    ) -> LLMReply:
        """Ask for one JSON object matching ``schema``; raise :class:`LLMError` on failure."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 20.0


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def _retryable(exc: BaseException) -> bool:
    status = _status(exc)
    if status is not None:
        return status in (408, 409, 429) or status >= 500
    # Timeouts and refused or dropped connections carry no status.
    return type(exc).__name__ in ("APITimeoutError", "APIConnectionError")


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("retry-after")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: the exponential wait stands
    return min(value, _MAX_RETRY_AFTER_S) if value is not None and value >= 0 else None


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy) -> tuple[T, int]:
    """Run ``fn`` under the retry policy: its result and the attempts it took, or LLMError."""
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_initial_s,
        max=policy.backoff_max_s,
        jitter=policy.backoff_initial_s,
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc)
        return after if after is not None else backoff(state)

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_retries + 1),
        wait=wait,
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    attempts = 0
    try:
        for attempt in retrying:
            with attempt:
                attempts = attempt.retry_state.attempt_number
                result = fn()
    except Exception as exc:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        raise LLMError(describe(exc) + tries, attempts=attempts) from exc
    return result, attempts


def describe(exc: BaseException) -> str:
    """A one-line reason for an SDK or transport failure."""
    status = _status(exc)
    name = type(exc).__name__
    if status is not None:
        return f"HTTP {status} ({name})"
    if name == "APITimeoutError":
        return "timeout"
    if name == "APIConnectionError":
        return "connection failed"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{name}: {first}"[:200]


@contextmanager
def _billed(reply: LLMReply) -> Iterator[None]:
    """An answer that came back is billed even when unusable: say so on the error."""
    try:
        yield
    except LLMError as exc:
        exc.billed = reply
        raise


def _parse_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMError(f"invalid JSON in the response: {exc.msg} at char {exc.pos}") from None
    if not isinstance(data, dict):
        raise LLMError(f"the response is JSON {type(data).__name__}, not an object")
    return data


class _SdkClient:
    """What both backends share: the SDK built with its own retries off, and one
    ``complete_json`` that times the call, runs it under the retry policy and records the
    attempt count on a failed reply. Subclasses say how to send and how to read a reply."""

    provider = ""
    sdk_name = ""

    def __init__(
        self,
        model: str,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        from callscope.extras import needs

        with needs(self.sdk_name):
            self._sdk = self._make_sdk(api_key, base_url, timeout_s)
        self.model = model
        self.policy = policy or RetryPolicy()

    def _make_sdk(self, api_key: str, base_url: str | None, timeout_s: float) -> Any:
        raise NotImplementedError

    def _send(
        self, system: str, user: str, name: str, schema: Mapping[str, Any], max_tokens: int
    ) -> Any:
        raise NotImplementedError

    def _reply(self, response: Any, name: str, latency: float, attempts: int) -> LLMReply:
        raise NotImplementedError

    def complete_json(
        self, *, system: str, user: str, name: str, schema: Mapping[str, Any], max_tokens: int
    ) -> LLMReply:
        start = time.perf_counter()
        response, attempts = call_with_retries(
            lambda: self._send(system, user, name, schema, max_tokens), self.policy
        )
        latency = (time.perf_counter() - start) * 1000
        try:
            return self._reply(response, name, latency, attempts)
        except LLMError as exc:
            exc.attempts = attempts
            raise


class AnthropicClient(_SdkClient):
    """Messages API; the schema is a tool's ``input_schema`` and ``tool_choice`` forces it."""

    provider = "anthropic"
    sdk_name = "the Anthropic client"

    def _make_sdk(self, api_key: str, base_url: str | None, timeout_s: float) -> Any:
        import anthropic

        return anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0
        )

    def _send(
        self, system: str, user: str, name: str, schema: Mapping[str, Any], max_tokens: int
    ) -> Any:
        tool: ToolParam = {
            "name": name,
            "description": "Record the result in this exact structure.",
            "input_schema": dict(schema),
        }
        return self._sdk.messages.create(
            model=self.model,
            max_tokens=max_tokens,
            system=system,
            messages=[{"role": "user", "content": user}],
            tools=[tool],
            tool_choice={"type": "tool", "name": name},
        )

    def _reply(self, message: Any, name: str, latency: float, attempts: int) -> LLMReply:
        usage = message.usage
        billed = LLMReply(
            data={},
            model=str(message.model or self.model),
            input_tokens=int(usage.input_tokens or 0) if usage else 0,
            output_tokens=int(usage.output_tokens or 0) if usage else 0,
            cached_input_tokens=int(usage.cache_read_input_tokens or 0) if usage else 0,
            latency_ms=round(latency, 1),
            attempts=attempts,
        )
        with _billed(billed):
            if message.stop_reason == "max_tokens":
                raise LLMError("the response was cut off at max_tokens")
            blocks = [b for b in message.content if b.type == "tool_use" and b.name == name]
            if not blocks:
                kinds = ", ".join(b.type for b in message.content) or "nothing"
                raise LLMError(f"no {name} tool call in the response (got {kinds})")
            data = blocks[0].input
            if isinstance(data, str):  # some compatible servers send the arguments as a string
                data = _parse_object(data)
            if not isinstance(data, dict):
                raise LLMError(f"the tool input is {type(data).__name__}, not an object")
        return replace(billed, data=data)


class OpenAIClient(_SdkClient):
    """Chat Completions with ``response_format={"type": "json_schema", "strict": true}``."""

    provider = "openai"
    sdk_name = "the OpenAI client"

    def _make_sdk(self, api_key: str, base_url: str | None, timeout_s: float) -> Any:
        import openai

        return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)

    def _send(
        self, system: str, user: str, name: str, schema: Mapping[str, Any], max_tokens: int
    ) -> Any:
        return self._sdk.chat.completions.create(
            model=self.model,
            max_completion_tokens=max_tokens,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": dict(schema)},
            },
        )

    def _reply(self, completion: Any, name: str, latency: float, attempts: int) -> LLMReply:
        usage = completion.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        billed = LLMReply(
            data={},
            model=str(completion.model or self.model),
            input_tokens=int(usage.prompt_tokens or 0) if usage else 0,
            output_tokens=int(usage.completion_tokens or 0) if usage else 0,
            cached_input_tokens=int(getattr(details, "cached_tokens", 0) or 0),
            latency_ms=round(latency, 1),
            attempts=attempts,
        )
        with _billed(billed):
            if not completion.choices:
                raise LLMError("the response has no choices")
            choice = completion.choices[0]
            if getattr(choice.message, "refusal", None):
                raise LLMError(f"the model refused: {str(choice.message.refusal)[:120]}")
            if choice.finish_reason == "length":
                raise LLMError("the response was cut off at max_completion_tokens")
            content = choice.message.content
            if not isinstance(content, str) or not content.strip():
                raise LLMError("the response message has no content")
            data = _parse_object(content)
        return replace(billed, data=data)
