"""Ingest benchmark: sessions/s through ``callscope serve``, SQLite and Redis side by side.

    python bench/ingest.py [--batch-sessions 10000] [--single-sessions 4000] [--repeat 3]

Targets (issue 4): >= 2,000 sessions/s through ``POST /v1/sessions:batch`` and >= 500/s one
per request, with p50/p99 request latency. The server (uvicorn, uvloop + httptools, one
process) and the load generator (raw keep-alive HTTP/1.1 on asyncio) share this machine.

Baselines measured in the same run, so ratios survive a noisy shared machine:
- ``enqueue_many`` straight on the queue with the same payloads (the durable write alone);
- ``GET /healthz`` over the same HTTP stack (the HTTP ceiling without parsing or writes).
Prints a table and writes bench/results/ingest.json.
"""

from __future__ import annotations
