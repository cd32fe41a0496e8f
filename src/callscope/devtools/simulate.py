"""A keyless, text-only run of a real LiveKit ``AgentSession`` for the default profile.

A scripted ``llm.LLM`` answers each turn and calls the profile's two tools
(``unleash_search_knowledge``, ``book_sales_meeting``), so the whole livekit-agents pipeline
(chat history, tool execution, usage, state events, close) runs exactly as in a call, with
no audio and no provider keys. Used by ``examples/agent.py simulate``, the tests and the
benchmark. Imports livekit-agents; lives outside ``callscope.collect`` so agents never load it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, AgentSession, function_tool, llm
from livekit.agents.llm import ChatChunk, ChoiceDelta, CompletionUsage, FunctionToolCall
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

INSTRUCTIONS = (
    "You are Ava from the PandaDoc trial team. Qualify the caller (team size, document "
    "volume, integrations, timeline), answer product questions with unleash_search_knowledge "
    "and book a meeting with sales using book_sales_meeting when the caller is interested."
)


@dataclass(frozen=True)
class Say:
    """The model answers with text."""

    text: str


@dataclass(frozen=True)
class Call:
    """The model calls a tool (the session runs it, then asks the model again)."""

    name: str
    arguments: dict[str, Any]


Step = Say | Call


class _ScriptedStream(llm.LLMStream):
    def __init__(
        self,
        owner: ScriptedLLM,
        step: Step,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._step = step
        self._n = owner.calls

    async def _run(self) -> None:
        rid = f"scripted-{self._n}"
        if isinstance(self._step, Say):
            delta = ChoiceDelta(role="assistant", content=self._step.text)
        else:
            delta = ChoiceDelta(
                role="assistant",
                tool_calls=[
                    FunctionToolCall(
                        name=self._step.name,
                        arguments=json.dumps(self._step.arguments),
                        call_id=f"call_{self._n}",
                    )
                ],
            )
        self._event_ch.send_nowait(ChatChunk(id=rid, delta=delta))
        prompt = 40 * (len(self._chat_ctx.items) + 1)
        self._event_ch.send_nowait(
            ChatChunk(
                id=rid,
                usage=CompletionUsage(
                    completion_tokens=12, prompt_tokens=prompt, total_tokens=prompt + 12
                ),
            )
        )


class ScriptedLLM(llm.LLM[Any]):
    """Plays back ``steps`` one model call at a time; then answers ``fallback``."""

    def __init__(
        self, steps: Sequence[Step], *, fallback: str = "Anything else I can help with?"
    ) -> None:
        super().__init__()
        self._steps = list(steps)
        self._fallback = fallback
        self.calls = 0

    @property
    def model(self) -> str:
        return "scripted-sales-v1"

    @property
    def provider(self) -> str:
        return "callscope-simulation"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        **_: Any,
    ) -> llm.LLMStream:
        step = self._steps.pop(0) if self._steps else Say(self._fallback)
        self.calls += 1
        return _ScriptedStream(
            self, step, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


class SalesAgent(Agent):
    """The default profile's agent: PandaDoc trial follow-up with its two tools."""

    def __init__(self, instructions: str = INSTRUCTIONS) -> None:
        super().__init__(instructions=instructions)

    @function_tool
    async def unleash_search_knowledge(self, query: str, category: str = "general") -> str:
        """Search the PandaDoc knowledge base.

        Args:
            query: what the caller wants to know
            category: integrations, pricing, templates, esign, security or general
        """
        results = [
            r
            for r in KNOWLEDGE
            if r["category"] == category
            or any(w in r["title"].lower() for w in query.lower().split())
        ]
        return json.dumps(
            {
                "found": bool(results),
                "total_results": len(results),
                "results": [{"title": r["title"]} for r in results[:3]],
            }
        )

    @function_tool
    async def book_sales_meeting(
        self, customer_name: str, customer_email: str, preferred_date: str, preferred_time: str
    ) -> str:
        """Book a meeting with a PandaDoc sales specialist.

        Args:
            customer_name: the caller's full name
            customer_email: where to send the invite
            preferred_date: YYYY-MM-DD
            preferred_time: HH:MM, the caller's local time
        """
        if "@" not in customer_email:
            return json.dumps({"success": False, "error": "invalid email"})
        slug = "".join(ch for ch in customer_name.lower() if ch.isalnum())[:12] or "guest"
        return json.dumps(
            {"success": True, "meeting_link": f"https://meet.example.com/{slug}-{preferred_date}"}
        )


KNOWLEDGE = [
    {"category": "integrations", "title": "HubSpot CRM integration"},
    {"category": "integrations", "title": "Salesforce integration"},
    {"category": "pricing", "title": "Business plan pricing"},
    {"category": "templates", "title": "Real estate templates"},
]

# One scripted call: (user turn, model steps for that turn).
DEFAULT_SCRIPT: list[tuple[str, list[Step]]] = [
    ("hi, yes this is Marisol", [Say("Hi Marisol! How is your PandaDoc trial going so far?")]),
    (
        "good, we're a team of 12 agents at a brokerage and we send about 80 contracts a month",
        [Say("That's a great fit. Which CRM do you use today?")],
    ),
    (
        "we use hubspot, does pandadoc integrate with it?",
        [
            Call(
                "unleash_search_knowledge",
                {"query": "HubSpot integration", "category": "integrations"},
            ),
            Say(
                "Yes, PandaDoc integrates natively with HubSpot: "
                "you can create documents from deals."
            ),
        ],
    ),
    (
        "great, can I talk to someone about the business plan this week?",
        [Say("Of course. What's your email and when works for you?")],
    ),
    (
        "marisol@hillcountryhomes.com, thursday at 2:30pm",
        [
            Call(
                "book_sales_meeting",
                {
                    "customer_name": "Marisol Echeverria",
                    "customer_email": "marisol@hillcountryhomes.com",
                    "preferred_date": "2026-09-17",
                    "preferred_time": "14:30",
                },
            ),
            Say("You're booked for Thursday at 2:30pm; the invite is on its way."),
        ],
    ),
    ("perfect, thanks!", [Say("Thanks Marisol, talk soon!")]),
]


def long_script(turns: int) -> list[tuple[str, list[Step]]]:
    """A call of about ``turns`` user turns (a 60-minute call is ~200 turns, ~400 items)."""
    script = list(DEFAULT_SCRIPT[:-1])
    i = 0
    while len(script) < turns - 1:
        i += 1
        script.append(
            (
                f"another question number {i} about templates and approvals",
                [
                    Say(
                        f"Good question {i}: templates can require approval before "
                        "sending, and you can set that per workspace."
                    )
                ],
            )
        )
    script.append(DEFAULT_SCRIPT[-1])
    return script


def script_steps(script: Sequence[tuple[str, list[Step]]]) -> list[Step]:
    return [step for _, steps in script for step in steps]


async def run_session(
    session: AgentSession[Any], script: Sequence[tuple[str, list[Step]]], *, close: bool = True
) -> None:
    """Drive a started session through the user turns of ``script``; then close it."""
    for user_text, _ in script:
        await session.run(user_input=user_text)
    if close:
        await session.aclose()


def new_session(script: Sequence[tuple[str, list[Step]]] = DEFAULT_SCRIPT) -> AgentSession[Any]:
    return AgentSession(llm=ScriptedLLM(script_steps(script)))
