"""A local HTTP server speaking the Anthropic Messages and OpenAI Chat Completions wire formats.

Responses follow the shapes in the providers' API references: Anthropic answers a forced tool
call with a ``tool_use`` content block and ``stop_reason: "tool_use"``; OpenAI answers a
``response_format: json_schema`` request with the JSON text in ``choices[0].message.content``.
Errors use each provider's error envelope. Tests script the replies and read what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from callscope.analyze.view import CallView, build_view
from callscope.contract.record import SessionRecord

DEV = Path(__file__).resolve().parents[3] / "shared" / "evals" / "dev"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str


class FakeLLMServer:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.default: Reply | None = None
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                with server._lock:
                    server.seen.append(
                        Seen(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            json.loads(raw),
                            raw,
                        )
                    )
                    reply = server.script.popleft() if server.script else server.default
                if reply is None:
                    reply = Reply(500, {"error": {"message": "no scripted reply"}})
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                payload = data.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        self.script.clear()
        self.seen.clear()
        self.default = None


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeLLMServer]:
    srv = FakeLLMServer()
    yield srv
    srv.close()


@pytest.fixture
def server(_server: FakeLLMServer) -> FakeLLMServer:
    _server.reset()
    return _server


# --- wire shapes --------------------------------------------------------------------------
def anthropic_tool_reply(
    name: str, data: dict[str, Any], *, model: str = "claude-3-5-haiku-20241022"
) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": name, "input": data}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 2095, "output_tokens": 503},
    }


def anthropic_error(status: int, kind: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": f"{kind} from the test server"}}


def openai_reply(
    content: str, *, model: str = "gpt-4.1-mini-2025-04-14", finish: str = "stop"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": 2000,
            "completion_tokens": 400,
            "total_tokens": 2400,
            "prompt_tokens_details": {"cached_tokens": 1000},
        },
    }


def openai_error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


# --- records ------------------------------------------------------------------------------
def dev_case(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    data = json.loads((DEV / f"{name}.json").read_text(encoding="utf-8"))
    return data["record"], data["expected"]


def view_of(record: dict[str, Any]) -> CallView:
    return build_view(SessionRecord.model_validate(record))
