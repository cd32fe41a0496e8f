"""The list price of one LLM call, from the profile's ``prices.llm`` table (USD per million)."""

from __future__ import annotations

from collections.abc import Mapping

from callscope.profile.model import LlmPrice


def find_price(
    table: Mapping[str, LlmPrice], provider: str, model: str, *, allow_wildcard: bool = True
) -> LlmPrice | None:
    """Exact ``provider/model``, else the longest priced prefix (dated model names), else
    ``provider/*`` when allowed (not for self-hosted OpenAI-compatible servers)."""
    provider, model = provider.lower(), model.lower()
    if (hit := table.get(f"{provider}/{model}")) is not None:
        return hit
    prefixes = [
        key
        for key in table
        if key.startswith(f"{provider}/")
        and key != f"{provider}/*"
        and model.startswith(key.split("/", 1)[1])
    ]
    if prefixes:
        return table[max(prefixes, key=len)]
    return table.get(f"{provider}/*") if allow_wildcard else None


def call_cost(price: LlmPrice, input_tokens: int, output_tokens: int, cached: int = 0) -> float:
    cached = min(max(cached, 0), input_tokens)
    cached_rate = (
        price.cached_input_per_million
        if price.cached_input_per_million is not None
        else price.input_per_million
    )
    usd = (
        (input_tokens - cached) * price.input_per_million
        + cached * cached_rate
        + output_tokens * price.output_per_million
    ) / 1e6
    return round(usd, 6)
