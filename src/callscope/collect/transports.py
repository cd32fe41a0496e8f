"""Where finished records go. One small interface, one class per backend.

A transport sends one already-encoded record and reports the outcome by raising:
:class:`TransientError` (try again later, optionally after ``retry_after`` seconds) or
:class:`PermanentError` (this record will never be accepted; keep it aside, do not retry).
Transports are used from the collector's background thread only; clients are created lazily
there and dropped after a fork (sockets must not be shared with a child process).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from callscope.masking import mask_url

if TYPE_CHECKING:
    import httpx

# SQS refuses bodies over 256 KiB; above this the body is sent gzip+base64 (a 5 MB record
# compresses to well under the limit) and flagged with a message attribute.
SQS_RAW_LIMIT = 240 * 1024
USER_AGENT = "callscope-collector/0.1"


class TransientError(Exception):
    """The backend could not take the record now; retry later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """The backend refused this record for good (bad request, too large, unauthorised)."""


class TransportConfigError(ValueError):
    """A transport URL that cannot be used; ``str()`` is a one-line message."""


@dataclass
class Envelope:
    """One encoded record: its dedup key and its gzip-compressed JSON."""

    session_id: str
    body_gz: bytes
    _json: bytes | None = field(default=None, repr=False)

    @property
    def json(self) -> bytes:
        if self._json is None:
            self._json = gzip.decompress(self.body_gz)
        return self._json

    @property
    def content_hash(self) -> str:
        return hashlib.blake2b(self.json, digest_size=16).hexdigest()


class Transport(Protocol):
    """Send one record. Raise TransientError / PermanentError; return normally on success."""

    url: str

    def send(self, envelope: Envelope) -> None: ...

    def reset(self) -> None:
        """Forget clients and sockets (after a fork, or before closing)."""
        ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        import email.utils  # rare (an HTTP-date Retry-After), and a slow import

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpTransport:
    """POST ``/v1/sessions`` to a callscope ingest server: gzip body, bearer token.

    2xx (202 accepted, 200 duplicate) is delivered; 408, 429 and 5xx are retried honouring
    ``Retry-After``; any other 4xx is a permanent refusal of this record.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/v1/sessions") else base + "/v1/sessions"
        self.url = mask_url(url)
        self._token = token
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def _get_client(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._client

    def prepare(self) -> None:
        self._get_client()

    def send(self, envelope: Envelope) -> None:
        import httpx

        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": USER_AGENT,
            "X-Callscope-Session-Id": envelope.session_id.encode("utf-8", "replace").decode(
                "latin-1", "replace"
            ),
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = self._get_client().post(self.endpoint, content=envelope.body_gz, headers=headers)
        except httpx.HTTPError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        code = resp.status_code
        if 200 <= code < 300:
            return
        detail = _short(resp.text)
        if code in (408, 425, 429) or code >= 500:
            raise TransientError(
                f"HTTP {code} {detail}".strip(), parse_retry_after(resp.headers.get("Retry-After"))
            )
        raise PermanentError(f"HTTP {code} {detail}".strip())

    def reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(session_id: str) -> str:
    """A file name for a session id: readable when possible, unique always."""
    cleaned = _UNSAFE.sub("_", session_id).strip("._")[:80]
    if cleaned == session_id and cleaned:
        return cleaned
    digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=6).hexdigest()
    return f"{cleaned or 'session'}-{digest}"


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` so that readers see the old file, or all of the new one, never part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class FileTransport:
    """``file://DIR``: one ``<session_id>.json`` per session (a re-send replaces it)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        raw = (
            unquote(parts.netloc + parts.path)
            if parts.netloc not in ("", "localhost")
            else unquote(parts.path)
        )
        if not raw:
            raise TransportConfigError(f"{url}: file:// transport needs a directory path")
        self.directory = Path(raw).expanduser()
        self.url = url

    def send(self, envelope: Envelope) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(
                self.directory / f"{safe_filename(envelope.session_id)}.json", envelope.json
            )
        except OSError as exc:
            raise TransientError(f"cannot write {self.directory}: {exc.strerror or exc}") from None

    def reset(self) -> None:
        return None


class SqsTransport:
    """``sqs://HOST/ACCOUNT/QUEUE``: ``send_message`` with a ``session_id`` attribute.

    The queue URL is ``https://HOST/ACCOUNT/QUEUE``; with ``AWS_ENDPOINT_URL`` (or
    ``AWS_ENDPOINT_URL_SQS``) set, boto3 talks to that endpoint (a local moto or ElasticMQ)
    and the queue URL is rebuilt on it. FIFO queues get the session id as message group and
    the content hash as deduplication id.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        path = parts.path.strip("/")
        if not parts.netloc or path.count("/") != 1:
            raise TransportConfigError(
                f"{url}: expected sqs://HOST/ACCOUNT_ID/QUEUE_NAME (the queue URL without https)"
            )
        self.url = url
        self._host = parts.netloc
        self._path = path
        self._fifo = path.endswith(".fifo")
        match = re.match(r"sqs[.-]([a-z0-9-]+)\.amazonaws\.com", parts.hostname or "")
        self._region = (match.group(1) if match else None) or os.environ.get(
            "AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        )
        self._client: Any = None
        self._queue_url = ""

    def _get_client(self) -> Any:
        if self._client is None:
            import boto3

            endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")
            self._client = boto3.client("sqs", region_name=self._region, endpoint_url=endpoint)
            base = endpoint.rstrip("/") if endpoint else f"https://{self._host}"
            self._queue_url = f"{base}/{self._path}"
        return self._client

    def prepare(self) -> None:
        self._get_client()

    def send(self, envelope: Envelope) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._get_client()
        attrs: dict[str, Any] = {
            "session_id": {"DataType": "String", "StringValue": envelope.session_id},
        }
        body_json = envelope.json
        if len(body_json) <= SQS_RAW_LIMIT:
            body = body_json.decode("utf-8")
        else:
            body = base64.b64encode(envelope.body_gz).decode("ascii")
            attrs["content_encoding"] = {"DataType": "String", "StringValue": "gzip+base64"}
        kwargs: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MessageBody": body,
            "MessageAttributes": attrs,
        }
        if self._fifo:
            kwargs["MessageGroupId"] = envelope.session_id[:128]
            kwargs["MessageDeduplicationId"] = envelope.content_hash
        try:
            client.send_message(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            message = f"SQS {code}: {err.get('Message', '')}".strip()
            if code in (
                "InvalidMessageContents",
                "MessageTooLong",
                "AWS.SimpleQueueService.InvalidMessageContents",
            ):
                raise PermanentError(message) from None
            raise TransientError(message) from None
        except BotoCoreError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None

    def reset(self) -> None:
        self._client = None


class RedisTransport:
    """``redis://[:PASSWORD@]HOST:PORT/STREAM``: ``XADD STREAM * session_id ID payload JSON``."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        stream = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not stream:
            raise TransportConfigError(f"{url}: expected redis://HOST:PORT/STREAM")
        self.url = mask_url(url)
        self.stream = stream
        self._host = parts.hostname
        self._port = parts.port or 6379
        self._password = unquote(parts.password) if parts.password else None
        self._username = unquote(parts.username) if parts.username else None
        self._tls = parts.scheme == "rediss"
        self._timeout = timeout
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis(
                host=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                ssl=self._tls,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
            )
        return self._client

    def prepare(self) -> None:
        self._get_client()

    def send(self, envelope: Envelope) -> None:
        import redis

        try:
            self._get_client().xadd(
                self.stream, {"session_id": envelope.session_id, "payload": envelope.json}
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._client = None
            raise TransientError(f"redis {type(exc).__name__}: {exc}") from None
        except redis.RedisError as exc:
            raise TransientError(f"redis {type(exc).__name__}: {exc}") from None

    def reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def transport_from_url(url: str, *, token: str | None = None) -> Transport:
    """Pick the backend by URL scheme."""
    if not isinstance(url, str) or "://" not in url:
        raise TransportConfigError(
            f"transport {url!r}: expected a URL (https://, http://, file://, sqs://, redis://)"
        )
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        return HttpTransport(url, token=token)
    if scheme == "file":
        return FileTransport(url)
    if scheme == "sqs":
        return SqsTransport(url)
    if scheme in ("redis", "rediss"):
        return RedisTransport(url)
    raise TransportConfigError(
        f"transport {url!r}: unknown scheme {scheme!r} (use https, http, file, sqs or redis)"
    )
