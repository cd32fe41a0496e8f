"""Real local backends for the collector's transport contract suite.

HTTP: a small threaded server speaking callscope ingest's ``POST /v1/sessions`` (202 new,
200 duplicate, 429/503 with Retry-After, 4xx refusals). Redis: a real ``redis-server``.
SQS: a moto server. File: a directory. Each can be taken down and brought back on the same
address, and ``received()`` accumulates what arrived across restarts.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class IngestServer:
    """``POST /v1/sessions``: 202 accepted, 200 duplicate (same session_id and body)."""

    def __init__(self, port: int | None = None, token: str | None = None) -> None:
        self.port = port or free_port()
        self.token = token
        self.records: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, str]]] = []  # forced responses, consumed first
        self.delay_s = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IngestServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with owner._lock:
                    owner.requests.append(
                        {"path": self.path, "headers": headers, "bytes": len(raw)}
                    )
                    forced = owner.script.pop(0) if owner.script else None
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                if self.path != "/v1/sessions":
                    return self._reply(404, {"error": "not found"})
                if owner.token and headers.get("authorization") != f"Bearer {owner.token}":
                    return self._reply(401, {"error": "bad token"})
                if forced is not None:
                    return self._reply(forced[0], {"error": "forced"}, forced[1])
                body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
                try:
                    record = json.loads(body)
                    sid = record["session_id"]
                except (ValueError, KeyError, TypeError):
                    return self._reply(400, {"error": "malformed record"})
                with owner._lock:
                    seen = owner.records.get(sid, [])
                    if seen and seen[-1] == record:
                        return self._reply(200, {"status": "duplicate", "session_id": sid})
                    owner.records[sid].append(record)
                self._reply(202, {"status": "accepted", "session_id": sid})

            def _reply(
                self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # contract-suite interface
    def down(self) -> None:
        self.stop()

    def up(self) -> None:
        self.start()

    def received(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {k: list(v) for k, v in self.records.items()}


class RedisProc:
    """A real redis-server on a free port, no persistence; restartable on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisProc:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class RedisBackend:
    def __init__(self, server: RedisProc, stream: str) -> None:
        self.server = server
        self.stream = stream
        self.url = f"redis://127.0.0.1:{server.port}/{stream}"
        self._seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._last = "0-0"
        self.fields: list[dict[bytes, bytes]] = []

    def received(self) -> dict[str, list[dict[str, Any]]]:
        import redis

        if self.server.proc is not None:
            client = redis.Redis(port=self.server.port)
            for entry_id, fields in client.xrange(
                self.stream, min=f"({self._last}" if self._last != "0-0" else "-"
            ):
                self._last = entry_id.decode()
                self.fields.append(fields)
                self._seen[fields[b"session_id"].decode()].append(json.loads(fields[b"payload"]))
            client.close()
        return {k: list(v) for k, v in self._seen.items()}

    def down(self) -> None:
        self.received()
        self.server.stop()
        self._last = "0-0"

    def up(self) -> None:
        self.server.start()


class SqsBackend:
    def __init__(self, port: int, queue: str) -> None:
        from moto.server import ThreadedMotoServer

        self.port = port
        self.queue = queue
        self._server_cls = ThreadedMotoServer
        self.server: Any = None
        self.url = f"sqs://127.0.0.1:{port}/123456789012/{queue}"
        self._seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.attributes: list[dict[str, Any]] = []

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "sqs", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{self.port}"
        )

    def start(self) -> SqsBackend:
        self.server = self._server_cls(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.client().create_queue(QueueName=self.queue)
        return self

    def received(self) -> dict[str, list[dict[str, Any]]]:
        import base64

        if self.server is not None:
            client = self.client()
            url = client.get_queue_url(QueueName=self.queue)["QueueUrl"]
            for _ in range(100):
                resp = client.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    MessageAttributeNames=["All"],
                    WaitTimeSeconds=0,
                )
                msgs = resp.get("Messages", [])
                if not msgs:
                    break
                for m in msgs:
                    attrs = m.get("MessageAttributes", {})
                    self.attributes.append(attrs)
                    body = m["Body"]
                    enc = attrs.get("content_encoding", {}).get("StringValue")
                    raw = (
                        gzip.decompress(base64.b64decode(body))
                        if enc == "gzip+base64"
                        else body.encode()
                    )
                    sid = attrs["session_id"]["StringValue"]
                    self._seen[sid].append(json.loads(raw))
                    client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return {k: list(v) for k, v in self._seen.items()}

    def down(self) -> None:
        self.received()
        self.server.stop()
        self.server = None

    def up(self) -> None:
        self.start()


class FileBackend:
    """``down`` puts a regular file where the directory should be: every write fails."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = f"file://{directory}"

    def received(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if self.directory.is_dir():
            for p in sorted(self.directory.glob("*.json")):
                record = json.loads(p.read_bytes())
                out.setdefault(record["session_id"], []).append(record)
        return out

    def down(self) -> None:
        if self.directory.is_dir():
            self._saved = self.directory.with_name(self.directory.name + ".saved")
            os.replace(self.directory, self._saved)
        self.directory.write_text("not a directory")

    def up(self) -> None:
        self.directory.unlink()
        saved = getattr(self, "_saved", None)
        if saved is not None and saved.exists():
            os.replace(saved, self.directory)


def spawn_ingest(port: int) -> subprocess.Popen[bytes]:
    """The ingest stand-in in its own process, so its work does not load our event loop."""
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys, time; sys.path.insert(0, {root!r})\n"
        "from tests.collect.backends import IngestServer\n"
        f"IngestServer(port={port}).start(); print('ready', flush=True); time.sleep(3600)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc
