"""Settings -> an LLM client and a registry whose ``sales`` and ``summary`` use it."""

from __future__ import annotations

import os

from callscope.analyze.registry import Registry
from callscope.analyze.registry import registry as default_registry
from callscope.config import ConfigError, Settings
from callscope.llm.analyzers import LLMBackend, llm_sales, llm_summary
from callscope.llm.client import AnthropicClient, LLMClient, OpenAIClient, RetryPolicy
from callscope.profile.model import Profile

LLM_MODULES = ("sales", "summary")
_KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
_OFFICIAL_OPENAI = ("https://api.openai.com", "http://api.openai.com")


def api_key(settings: Settings) -> str | None:
    """``CALLSCOPE_LLM_API_KEY`` (``llm_api_key``), else the provider's own variable."""
    if settings.llm_api_key:
        return settings.llm_api_key
    env = _KEY_ENV.get(settings.analysis_backend)
    return os.environ.get(env) or None if env else None


def make_client(settings: Settings, policy: RetryPolicy | None = None) -> LLMClient:
    backend = settings.analysis_backend
    if backend == "offline":
        raise ConfigError("analysis_backend=offline uses no LLM client")
    if not settings.llm_model:
        raise ConfigError(f"analysis_backend={backend} needs llm_model (CALLSCOPE_LLM_MODEL)")
    key = api_key(settings)
    if not key:
        if not settings.llm_base_url:
            raise ConfigError(
                f"analysis_backend={backend} needs an API key: CALLSCOPE_LLM_API_KEY "
                f"or {_KEY_ENV[backend]}"
            )
        key = "unused"  # self-hosted servers (vLLM, Ollama) accept any key; the SDKs want one
    policy = policy or RetryPolicy(max_retries=settings.llm_max_retries)
    try:
        if backend == "anthropic":
            return AnthropicClient(
                settings.llm_model,
                key,
                base_url=settings.llm_base_url,
                timeout_s=settings.llm_timeout_s,
                policy=policy,
            )
        return OpenAIClient(
            settings.llm_model,
            key,
            base_url=settings.llm_base_url,
            timeout_s=settings.llm_timeout_s,
            policy=policy,
        )
    except ImportError:
        raise ConfigError(
            f"analysis_backend={backend} needs the {backend} package: pip install 'callscope[llm]'"
        ) from None


def copy_registry(source: Registry) -> Registry:
    out = Registry()
    for analyzer in source.ordered():
        out.add(analyzer)
    return out


def build_llm_registry(
    profile: Profile, settings: Settings, *, client: LLMClient | None = None
) -> Registry:
    """The registry the worker runs: the default one for ``analysis_backend=offline``, else a
    copy whose ``sales`` and ``summary`` ask the LLM and fall back to the offline analyzers.

    ``profile`` is used to build the prompt and schema once, so a broken vocabulary fails here.
    """
    import callscope.analyze.modules  # noqa: F401  # registers the offline analyzers

    if settings.analysis_backend == "offline" and client is None:
        return default_registry
    backend = LLMBackend(
        client or make_client(settings),
        redact=settings.llm_redact_pii,
        priced_by_wildcard=not settings.llm_base_url
        or settings.llm_base_url.rstrip("/").startswith(_OFFICIAL_OPENAI)
        or "anthropic.com" in settings.llm_base_url,
    )
    backend.sales_prompt(profile)
    out = copy_registry(default_registry)
    out.add(llm_sales(default_registry.get("sales"), backend))
    out.add(llm_summary(default_registry.get("summary"), backend))
    return out
