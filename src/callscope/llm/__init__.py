"""Optional LLM backend for the judgement-heavy analyzers (``sales``, ``summary``).

Kept out of ``callscope.analyze`` on purpose: analyzers there are pure and offline, this
package makes network calls. ``build_llm_registry`` swaps the LLM versions into a copy of
the default registry; every LLM analyzer falls back to the offline one on any failure.
See docs/llm.md.
"""

from callscope.llm.analyzers import LLM_VERSION, LLMBackend, llm_sales, llm_summary
from callscope.llm.client import (
    AnthropicClient,
    LLMClient,
    LLMError,
    LLMReply,
    OpenAIClient,
    RetryPolicy,
)
from callscope.llm.wiring import build_llm_registry, make_client

__all__ = [
    "LLM_VERSION",
    "AnthropicClient",
    "LLMBackend",
    "LLMClient",
    "LLMError",
    "LLMReply",
    "OpenAIClient",
    "RetryPolicy",
    "build_llm_registry",
    "llm_sales",
    "llm_summary",
    "make_client",
]
