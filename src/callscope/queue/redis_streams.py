"""Queue on Redis Streams: consumer groups, XAUTOCLAIM for dead consumers, a DLQ stream.

Layout (all keys share the hash tag ``{<stream>}`` so they land on one Redis Cluster slot,
which the Lua scripts need):

- ``{s}:hot`` / ``{s}:normal`` - streams of ``(sid, rev)`` entries; hot is read first;
- ``{s}:hash`` / ``{s}:rev`` - content hash and revision per session (kept after ack: dedup);
- ``{s}:data`` / ``:att`` / ``:prio`` / ``:enq`` / ``:why`` - payload and bookkeeping of
  the live revision, dropped on ack;
- ``{s}:lease`` - stream entry id -> token of its current delivery (stale acks are no-ops);
- ``{s}:delayed`` - sorted set of sessions waiting out a retry backoff (score = due time);
- ``{s}:dlq`` - dead-letter stream, ``{s}:dlqid`` - session -> its DLQ entry id;
- ``<s>`` itself (no braces; the same cluster slot) - the ingest stream where producers
  without the ingest service (the collector's ``redis://HOST:PORT/<s>`` transport, agents in
  other languages) ``XADD`` records in the producer wire format (``callscope.queue.wire``).
  ``lease`` adopts those entries first, through the same dedup / revision / priority logic as
  ``enqueue``, atomically with removing them; undecodable ones go to the DLQ.

Every state change is one Lua script, so a crash between two commands cannot lose or
duplicate a message. An accepted message is in Redis before ``enqueue`` returns; run Redis
with ``appendonly yes`` so it survives a restart.

Lease expiry uses the stream's own idle clock: ``lease(visibility_timeout=v)`` reclaims
entries another consumer has held for more than ``v`` seconds (XAUTOCLAIM), so all workers
of one group should use the same visibility timeout.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from callscope.queue._common import check_item, check_lease_args, new_token
from callscope.queue.base import (
    MAX_ATTEMPTS,
    PRIORITY_HOT,
    PRIORITY_NORMAL,
    DeadLetter,
    EnqueueItem,
    EnqueueOutcome,
    EnqueueResult,
    Message,
    QueueStats,
    QueueUnavailable,
    backoff_seconds,
    content_hash,
    normalize_items,
)
from callscope.queue.wire import WireError, decode_producer_message, foreign_key

# KEYS order shared by every script.
_KEY_NAMES = (
    "hot", "normal", "dlq", "hash", "rev", "data", "att", "prio", "enq", "lease", "dlqid",
    "delayed", "why",
)  # fmt: skip

_LUA_HEAD = """
local K_HOT, K_NORMAL, K_DLQ, K_HASH, K_REV, K_DATA, K_ATT, K_PRIO, K_ENQ, K_LEASE,
      K_DLQID, K_DELAYED, K_WHY = unpack(KEYS)
local function stream_for(prio, hot)
  if tonumber(prio) >= tonumber(hot) then return K_HOT end
  return K_NORMAL
end
local function bury(sid, rev, attempts, reason, now)
  local old = redis.call('HGET', K_DLQID, sid)
  if old then redis.call('XDEL', K_DLQ, old) end
  local id = redis.call('XADD', K_DLQ, '*', 'sid', sid, 'rev', rev, 'attempts', attempts,
                        'reason', reason, 'failed_at', now)
  redis.call('HSET', K_DLQID, sid, id)
  redis.call('HDEL', K_WHY, sid)
end
local function drop(stream, group, id)
  redis.call('XACK', stream, group, id)
  redis.call('XDEL', stream, id)
  redis.call('HDEL', K_LEASE, id)
end
"""

# ARGV: sid, hash, payload, priority, now, hot_threshold
_ENQUEUE_BODY = """
local sid, h = ARGV[1], ARGV[2]
local old = redis.call('HGET', K_HASH, sid)
if old == h then return {'duplicate', tonumber(redis.call('HGET', K_REV, sid))} end
local rev = redis.call('HINCRBY', K_REV, sid, 1)
redis.call('HSET', K_HASH, sid, h)
redis.call('HSET', K_DATA, sid, ARGV[3])
redis.call('HSET', K_ATT, sid, 0)
redis.call('HSET', K_PRIO, sid, ARGV[4])
redis.call('HSET', K_ENQ, sid, ARGV[5])
redis.call('HDEL', K_WHY, sid)
redis.call('ZREM', K_DELAYED, sid)
local d = redis.call('HGET', K_DLQID, sid)
if d then
  redis.call('XDEL', K_DLQ, d)
  redis.call('HDEL', K_DLQID, sid)
end
redis.call('XADD', stream_for(ARGV[4], ARGV[6]), '*', 'sid', sid, 'rev', rev)
if old then return {'revision', rev} end
return {'accepted', rev}
"""
_ENQUEUE = _LUA_HEAD + _ENQUEUE_BODY

# A producer's entry on the ingest stream (KEYS[14]) becomes an enqueue, atomically with its
# removal: two consumers racing for one entry (XAUTOCLAIM) enqueue it once.
# ARGV: as _ENQUEUE, then ingest entry id, group
_ADOPT = (
    _LUA_HEAD
    + """
local gone = redis.call('XDEL', KEYS[14], ARGV[7]) == 0
redis.call('XACK', KEYS[14], ARGV[8], ARGV[7])
if gone then return {'gone', 0} end
"""
    + _ENQUEUE_BODY
)

# An undecodable producer entry: parked in the DLQ under its own key, payload kept.
# ARGV: key, raw payload, reason, now, ingest entry id, group
_BURY_FOREIGN = (
    _LUA_HEAD
    + """
local key = ARGV[1]
local gone = redis.call('XDEL', KEYS[14], ARGV[5]) == 0
redis.call('XACK', KEYS[14], ARGV[6], ARGV[5])
if gone then return 0 end
redis.call('HSET', K_REV, key, 1)
redis.call('HSET', K_DATA, key, ARGV[2])
redis.call('HSET', K_ATT, key, 0)
redis.call('HSET', K_PRIO, key, 0)
redis.call('HSET', K_ENQ, key, ARGV[4])
bury(key, 1, 0, ARGV[3], ARGV[4])
return 1
"""
)

# ARGV: stream, id, sid, rev, token, max_attempts, now, group
_CLAIM = (
    _LUA_HEAD
    + """
local stream, id, sid, rev, group = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local payload = redis.call('HGET', K_DATA, sid)
if redis.call('HGET', K_REV, sid) ~= rev or not payload
   or redis.call('HEXISTS', K_DLQID, sid) == 1 or redis.call('ZSCORE', K_DELAYED, sid) then
  -- superseded by a newer revision, already done, dead or backing off: a stale entry
  drop(stream, group, id)
  return {'stale'}
end
local done = tonumber(redis.call('HGET', K_ATT, sid) or '0')
if done >= tonumber(ARGV[6]) then
  -- every delivery so far ended in an expired lease: the message likely kills workers
  drop(stream, group, id)
  bury(sid, rev, done, 'lease expired after ' .. done .. ' deliveries', ARGV[7])
  return {'dead'}
end
local n = redis.call('HINCRBY', K_ATT, sid, 1)
redis.call('HSET', K_LEASE, id, ARGV[5])
return {'ok', n, payload, redis.call('HGET', K_PRIO, sid), redis.call('HGET', K_ENQ, sid)}
"""
)

# ARGV: stream, id, token, sid, rev, group
_ACK = (
    _LUA_HEAD
    + """
local stream, id, sid, rev = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
if redis.call('HGET', K_LEASE, id) ~= ARGV[3] then return 0 end
drop(stream, ARGV[6], id)
if redis.call('HGET', K_REV, sid) == rev then
  redis.call('HDEL', K_DATA, sid)
  redis.call('HDEL', K_ATT, sid)
  redis.call('HDEL', K_PRIO, sid)
  redis.call('HDEL', K_ENQ, sid)
  redis.call('HDEL', K_WHY, sid)
end
return 1
"""
)

# ARGV: stream, id, token, sid, rev, group, max_attempts, reason, now, due, bury_now
_NACK = (
    _LUA_HEAD
    + """
local stream, id, sid, rev = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
if redis.call('HGET', K_LEASE, id) ~= ARGV[3] then return 0 end
drop(stream, ARGV[6], id)
if redis.call('HGET', K_REV, sid) ~= rev then return 0 end
local n = tonumber(redis.call('HGET', K_ATT, sid) or '0')
if ARGV[11] == '1' then
  bury(sid, rev, n, ARGV[8], ARGV[9])
elseif n >= tonumber(ARGV[7]) then
  bury(sid, rev, n, ARGV[8] .. ' (after ' .. n .. ' attempts)', ARGV[9])
else
  redis.call('ZADD', K_DELAYED, ARGV[10], sid)
  redis.call('HSET', K_WHY, sid, ARGV[8])
end
return 1
"""
)

# ARGV: now, hot_threshold, limit
_PROMOTE = (
    _LUA_HEAD
    + """
local due = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, sid in ipairs(due) do
  redis.call('ZREM', K_DELAYED, sid)
  local rev = redis.call('HGET', K_REV, sid)
  local prio = redis.call('HGET', K_PRIO, sid) or '0'
  if rev and redis.call('HEXISTS', K_DATA, sid) == 1 then
    redis.call('XADD', stream_for(prio, ARGV[2]), '*', 'sid', sid, 'rev', rev)
  end
end
return #due
"""
)

# ARGV: sid, hot_threshold
_REPLAY = (
    _LUA_HEAD
    + """
local sid = ARGV[1]
local d = redis.call('HGET', K_DLQID, sid)
if not d then return 0 end
redis.call('XDEL', K_DLQ, d)
redis.call('HDEL', K_DLQID, sid)
if redis.call('HEXISTS', K_DATA, sid) == 0 then return 0 end
redis.call('HSET', K_ATT, sid, 0)
local prio = redis.call('HGET', K_PRIO, sid) or '0'
local rev = redis.call('HGET', K_REV, sid)
redis.call('XADD', stream_for(prio, ARGV[2]), '*', 'sid', sid, 'rev', rev)
return 1
"""
)

_UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisStreamsQueue:
    """The ``Queue`` protocol on Redis Streams (one consumer group, hot + normal streams)."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = "callscope",
        group: str = "workers",
        consumer: str | None = None,
        clock: Callable[[], float] = time.time,
        retry_base_s: float = 2.0,
        client: redis.Redis[bytes] | None = None,
    ) -> None:
        if not stream or any(c in stream for c in "{}"):
            raise ValueError(f"queue: invalid redis stream name {stream!r}")
        self.url = url
        self.stream = stream
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{new_token()[:6]}"
        self._clock = clock
        self._retry_base = retry_base_s
        self._r: redis.Redis[bytes] = client or redis.Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=10.0,
            health_check_interval=30,
            # Ride out a blip (failover, restart) briefly, then report it: the caller answers
            # 503 and retries instead of stalling a request thread for long.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        self._keys = [f"{{{stream}}}:{name}" for name in _KEY_NAMES]
        self._hot, self._normal, self._dlq = self._keys[0], self._keys[1], self._keys[2]
        # The bare name hashes to the same cluster slot as the ``{stream}:*`` keys.
        self.ingest_stream = stream
        self._adopt_keys = [*self._keys, stream]
        self._enqueue = self._r.register_script(_ENQUEUE)
        self._claim = self._r.register_script(_CLAIM)
        self._ack = self._r.register_script(_ACK)
        self._nack = self._r.register_script(_NACK)
        self._promote = self._r.register_script(_PROMOTE)
        self._replay = self._r.register_script(_REPLAY)
        self._adopt = self._r.register_script(_ADOPT)
        self._bury_foreign = self._r.register_script(_BURY_FOREIGN)
        self._groups_ready = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStreamsQueue:
        """``redis://host:port/db?stream=name&group=name&consumer=name``."""
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        for name in ("stream", "group", "consumer"):
            if name in query:
                kwargs.setdefault(name, query.pop(name))
        rest = "&".join(f"{k}={v}" for k, v in query.items())
        return cls(urlunsplit(parts._replace(query=rest)), **kwargs)

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise QueueUnavailable(f"redis queue {self.stream}: {exc}") from None
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):
                # The streams vanished (FLUSHALL, a fresh server): recreate on next call.
                self._groups_ready = False
            raise

    def _ensure_groups(self) -> None:
        if self._groups_ready:
            return
        for stream in (self._hot, self._normal, self.ingest_stream):
            try:
                self._r.xgroup_create(stream, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    def _receipt(self, stream: str, entry_id: str, token: str) -> str:
        return f"{'h' if stream == self._hot else 'n'}:{entry_id}:{token}"

    def _parse_receipt(self, receipt: str) -> tuple[str, str, str]:
        which, entry_id, token = receipt.split(":", 2)
        return (self._hot if which == "h" else self._normal), entry_id, token

    # -- producer side -------------------------------------------------------------------

    def enqueue(
        self, session_id: str, payload: bytes, *, priority: int = PRIORITY_NORMAL
    ) -> EnqueueResult:
        return self.enqueue_many([(session_id, payload, priority)])[0]

    def enqueue_many(self, items: Sequence[EnqueueItem]) -> list[EnqueueResult]:
        triples = normalize_items(items)
        for sid, payload, _ in triples:
            check_item(sid, payload)
        if not triples:
            return []
        now = self._clock()
        with self._guard():
            self._ensure_groups()
            # One round trip; the scripts run in order, so a session repeated inside the
            # batch sees its own earlier revision.
            pipe = self._r.pipeline(transaction=False)
            for sid, payload, prio in triples:
                args = [sid, content_hash(bytes(payload)), bytes(payload), prio, now, PRIORITY_HOT]
                self._enqueue(keys=self._keys, args=args, client=pipe)
            replies = pipe.execute()
        return [
            EnqueueResult(sid, EnqueueOutcome(_s(outcome)), int(rev))
            for (sid, _, _), (outcome, rev) in zip(triples, replies, strict=True)
        ]

    # -- consumer side -------------------------------------------------------------------

    def lease(self, max_messages: int, *, visibility_timeout: float = 60.0) -> list[Message]:
        check_lease_args(max_messages, visibility_timeout)
        now = self._clock()
        out: list[Message] = []
        idle_ms = max(1, int(visibility_timeout * 1000))
        with self._guard():
            self._ensure_groups()
            self._promote(keys=self._keys, args=[now, PRIORITY_HOT, 1000])
            self._adopt_foreign(idle_ms, max_messages, now)
            for stream in (self._hot, self._normal):
                for _ in range(4):  # bounded: stale entries are dropped, so refill a few times
                    want = max_messages - len(out)
                    if want <= 0:
                        break
                    entries = self._reclaim(stream, idle_ms, want)
                    if len(entries) < want:
                        read = self._r.xreadgroup(
                            self.group, self.consumer, {stream: ">"}, count=want - len(entries)
                        )
                        for _name, batch in read or []:
                            entries.extend(batch)
                    if not entries:
                        break
                    out.extend(self._claim_entries(stream, entries, now))
        return out

    def _adopt_foreign(self, idle_ms: int, want: int, now: float) -> int:
        """Move producer entries from the ingest stream into the queue; returns how many
        became deliverable. Runs before the hot stream is read, so a hot lead sent by a
        producer is leased ahead of normal work. Duplicates are dropped here, so it keeps
        going (bounded) until something is deliverable or the ingest stream is drained."""
        queued = 0
        count = max(want, 200)
        for _ in range(20):
            entries = self._reclaim(self.ingest_stream, idle_ms, count)
            if len(entries) < count:
                read = self._r.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.ingest_stream: ">"},
                    count=count - len(entries),
                )
                for _name, batch in read or []:
                    entries.extend(e for e in batch if e and e[1])
            if not entries:
                break
            pipe = self._r.pipeline(transaction=False)
            for entry_id, fields in entries:
                eid = _s(entry_id)
                try:
                    m = decode_producer_message(
                        fields.get(b"session_id"),
                        fields.get(b"payload"),
                        fields.get(b"content_encoding"),
                        fields.get(b"priority"),
                    )
                except WireError as exc:
                    key, what = foreign_key(fields.get(b"session_id"), eid)
                    args: list[Any] = [
                        key, fields.get(b"payload") or b"", f"{what}: {exc}", now, eid, self.group,
                    ]  # fmt: skip
                    self._bury_foreign(keys=self._adopt_keys, args=args, client=pipe)
                    continue
                args = [
                    m.session_id, content_hash(m.payload), m.payload, m.priority, now,
                    PRIORITY_HOT, eid, self.group,
                ]  # fmt: skip
                self._adopt(keys=self._adopt_keys, args=args, client=pipe)
            for reply in pipe.execute():
                if isinstance(reply, list) and _s(reply[0]) in ("accepted", "revision"):
                    queued += 1
            if queued >= want:
                break
        return queued

    def _reclaim(self, stream: str, idle_ms: int, want: int) -> list[Any]:
        """Entries whose consumer held them longer than the visibility timeout (died)."""
        found: list[Any] = []
        cursor = "0-0"
        for _ in range(4):
            reply = self._r.xautoclaim(
                stream, self.group, self.consumer, idle_ms, start_id=cursor, count=want
            )
            cursor = _s(reply[0])
            found.extend(e for e in reply[1] if e and e[1])
            if len(found) >= want or cursor == "0-0":
                break
        return found[:want]

    def _claim_entries(self, stream: str, entries: list[Any], now: float) -> list[Message]:
        pipe = self._r.pipeline(transaction=False)
        tokens: list[str] = []
        parsed: list[tuple[str, str, str]] = []
        for entry_id, fields in entries:
            eid = _s(entry_id)
            sid = _s(fields[b"sid"])
            rev = _s(fields[b"rev"])
            token = new_token()
            tokens.append(token)
            parsed.append((eid, sid, rev))
            args = [stream, eid, sid, rev, token, MAX_ATTEMPTS, now, self.group]
            self._claim(keys=self._keys, args=args, client=pipe)
        out: list[Message] = []
        for (eid, sid, rev), token, reply in zip(parsed, tokens, pipe.execute(), strict=True):
            if _s(reply[0]) != "ok":
                continue
            _, attempts, payload, prio, enq = reply
            out.append(
                Message(
                    session_id=sid,
                    payload=bytes(payload),
                    revision=int(rev),
                    attempts=int(attempts),
                    priority=int(prio or 0),
                    receipt=self._receipt(stream, eid, token),
                    enqueued_at=float(enq or now),
                )
            )
        return out

    def ack(self, message: Message) -> None:
        stream, eid, token = self._parse_receipt(message.receipt)
        args = [stream, eid, token, message.session_id, message.revision, self.group]
        with self._guard():
            self._ack(keys=self._keys, args=args)

    def _settle(self, message: Message, reason: str, *, bury: bool) -> None:
        stream, eid, token = self._parse_receipt(message.receipt)
        now = self._clock()
        due = now + backoff_seconds(message.attempts, base=self._retry_base)
        args = [
            stream, eid, token, message.session_id, message.revision, self.group,
            MAX_ATTEMPTS, reason, now, due, "1" if bury else "0",
        ]  # fmt: skip
        with self._guard():
            self._nack(keys=self._keys, args=args)

    def nack(self, message: Message, reason: str) -> None:
        self._settle(message, reason, bury=False)

    def dead_letter(self, message: Message, reason: str) -> None:
        self._settle(message, reason, bury=True)

    # -- operations ----------------------------------------------------------------------

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        if limit <= 0:
            return []
        with self._guard():
            entries = self._r.xrevrange(self._dlq, count=limit)
            pipe = self._r.pipeline(transaction=False)
            for _, fields in entries:
                pipe.hget(self._keys[5], fields[b"sid"])
            payloads = pipe.execute()
        return [
            DeadLetter(
                session_id=_s(f[b"sid"]),
                revision=int(f[b"rev"]),
                attempts=int(f[b"attempts"]),
                reason=_s(f[b"reason"]),
                failed_at=float(f[b"failed_at"]),
                payload=bytes(p or b""),
            )
            for (_, f), p in zip(entries, payloads, strict=True)
        ]

    def replay(self, session_id: str | None = None) -> int:
        with self._guard():
            self._ensure_groups()
            if session_id is not None:
                sids: list[Any] = [session_id]
            else:
                sids = list(self._r.hkeys(self._keys[10]))
            moved = 0
            for i in range(0, len(sids), 500):
                pipe = self._r.pipeline(transaction=False)
                for sid in sids[i : i + 500]:
                    self._replay(keys=self._keys, args=[sid, PRIORITY_HOT], client=pipe)
                moved += sum(int(n) for n in pipe.execute())
        return moved

    def purge(self, predicate: Callable[[str, bytes], bool]) -> list[str]:
        """Delete every message (queued, in flight, backing off, dead) and the dedup state of
        each session whose ``(session_id, payload + last error)`` matches; returns their ids.
        Used by the right to be forgotten. Scans, so meant for rare operator use."""
        k = dict(zip(_KEY_NAMES, self._keys, strict=True))
        with self._guard():
            doomed: set[str] = set()
            for raw_sid, payload in self._r.hscan_iter(k["data"]):
                sid = _s(raw_sid)
                why = self._r.hget(k["why"], raw_sid) or b""
                if predicate(sid, bytes(payload) + bytes(why)):
                    doomed.add(sid)
            for raw_sid in self._r.hkeys(k["rev"]):  # processed: only the id is left
                sid = _s(raw_sid)
                if sid not in doomed and predicate(sid, b""):
                    doomed.add(sid)
            for _eid, fields in self._r.xrange(self._dlq):
                sid = _s(fields[b"sid"])
                if sid not in doomed and predicate(sid, fields.get(b"reason", b"")):
                    doomed.add(sid)
            # Producer entries not adopted yet: the payload may be compressed, so decode it.
            waiting: list[tuple[Any, str]] = []
            for eid, fields in self._r.xrange(self.ingest_stream):
                raw_sid = fields.get(b"session_id") or b""
                sid = raw_sid.decode("utf-8", "replace")
                try:
                    text = decode_producer_message(
                        raw_sid, fields.get(b"payload"), fields.get(b"content_encoding")
                    ).payload
                except WireError:
                    text = bytes(fields.get(b"payload") or b"")
                waiting.append((eid, sid))
                if sid and sid not in doomed and predicate(sid, text):
                    doomed.add(sid)
            if not doomed:
                return []
            pipe = self._r.pipeline(transaction=False)
            for eid, sid in waiting:
                if sid in doomed:
                    pipe.xack(self.ingest_stream, self.group, eid)
                    pipe.xdel(self.ingest_stream, eid)
            for stream in (self._hot, self._normal):
                for eid, fields in self._r.xrange(stream):
                    if _s(fields[b"sid"]) in doomed:
                        pipe.xack(stream, self.group, eid)
                        pipe.xdel(stream, eid)
                        pipe.hdel(k["lease"], eid)
            for eid, fields in self._r.xrange(self._dlq):
                if _s(fields[b"sid"]) in doomed:
                    pipe.xdel(self._dlq, eid)
            names = sorted(doomed)
            for name in ("hash", "rev", "data", "att", "prio", "enq", "why", "dlqid"):
                pipe.hdel(k[name], *names)
            pipe.zrem(k["delayed"], *names)
            pipe.execute()
        return names

    def stats(self) -> QueueStats:
        now = self._clock()
        with self._guard():
            self._ensure_groups()
            pipe = self._r.pipeline(transaction=False)
            for stream in (self._hot, self._normal):
                pipe.xlen(stream)
                pipe.xpending(stream, self.group)
                pipe.xinfo_groups(stream)
            pipe.zcard(self._keys[11])
            pipe.xlen(self._dlq)
            pipe.xlen(self.ingest_stream)
            pipe.xinfo_groups(self.ingest_stream)
            replies = pipe.execute()
            ready = leased = 0
            oldest: float | None = None
            for i, stream in enumerate((self._hot, self._normal)):
                length, pending, groups = replies[3 * i : 3 * i + 3]
                n_pending = int(pending["pending"])
                leased += n_pending
                ready += max(0, int(length) - n_pending)
                enq = self._first_undelivered_enq(stream, groups)
                if enq is not None and (oldest is None or enq < oldest):
                    oldest = enq
            delayed, dead = int(replies[6]), int(replies[7])
            # Producer entries not yet adopted are waiting work too (their age: the entry id).
            ready += int(replies[8])
            head = self._first_undelivered_id(self.ingest_stream, replies[9])
            if head is not None:
                first = int(head.split("-", 1)[0]) / 1000
                oldest = first if oldest is None else min(oldest, first)
        return QueueStats(
            ready=ready + delayed,
            leased=leased,
            dead=dead,
            oldest_ready_age_s=None if oldest is None else max(0.0, now - oldest),
            delayed=delayed,
        )

    def _first_undelivered_enq(self, stream: str, groups: list[dict[str, Any]]) -> float | None:
        last = next((g["last-delivered-id"] for g in groups if _s(g["name"]) == self.group), None)
        start = "-" if last is None else "(" + _s(last)
        head = self._r.xrange(stream, min=start, count=1)
        if not head:
            return None
        raw = self._r.hget(self._keys[8], head[0][1][b"sid"])
        return None if raw is None else float(raw)

    def _first_undelivered_id(self, stream: str, groups: list[dict[str, Any]]) -> str | None:
        last = next((g["last-delivered-id"] for g in groups if _s(g["name"]) == self.group), None)
        head = self._r.xrange(stream, min="-" if last is None else "(" + _s(last), count=1)
        return _s(head[0][0]) if head else None

    def ping(self) -> bool:
        try:
            return bool(self._r.ping())
        except (*_UNAVAILABLE, redis.RedisError):
            return False

    def close(self) -> None:
        self._r.close()

    def __repr__(self) -> str:
        return f"RedisStreamsQueue(stream={self.stream!r}, group={self.group!r})"
