"""Object storage behind the raw store and the archive: a local directory or S3-compatible.

``open_objects("s3://bucket/prefix", endpoint_url=...)`` works with AWS S3, MinIO, R2 or a
moto server; the endpoint also comes from ``CALLSCOPE_S3_ENDPOINT_URL`` or boto3's own
``AWS_ENDPOINT_URL``. Keys are ``/``-separated and relative to the prefix.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from callscope.store.base import StoreError

_PUT_THREADS = 8


class Objects(Protocol):
    url: str

    def put(self, key: str, data: bytes, content_type: str = ...) -> None: ...

    def put_many(self, items: Sequence[tuple[str, bytes]], content_type: str = ...) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def keys(self, prefix: str = "", start_after: str = "") -> Iterator[str]: ...

    def delete(self, keys: Sequence[str]) -> int: ...


_IO_POOL: ThreadPoolExecutor | None = None


def _io_pool() -> ThreadPoolExecutor:
    global _IO_POOL
    if _IO_POOL is None:
        _IO_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="callscope-objects")
    return _IO_POOL


class LocalObjects:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.url = str(self.root)
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: exists and is not a directory")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create directory: {exc.strerror}") from None

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise StoreError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write(path, data)

    def put_many(
        self, items: Sequence[tuple[str, bytes]], content_type: str = "application/octet-stream"
    ) -> None:
        made: set[Path] = set()
        paths: list[tuple[Path, bytes]] = []
        for key, data in items:
            path = self._path(key)
            if path.parent not in made:  # a batch lands in a few day directories
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            paths.append((path, data))
        if len(paths) < 4:
            for path, data in paths:
                self._write(path, data)
            return
        # Creating a file costs ~1 ms of filesystem latency in a large directory and releases
        # the GIL: a few threads keep the worker's single writer process from waiting on it.
        for future in [_io_pool().submit(self._write, path, data) for path, data in paths]:
            future.result()

    def _write(self, path: Path, data: bytes) -> None:
        # Write then rename: a reader (or a crash) never sees half an object.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def keys(self, prefix: str = "", start_after: str = "") -> Iterator[str]:
        # Sorted walk, the same order S3 lists keys in.
        def walk(d: Path, rel: str) -> Iterator[str]:
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except FileNotFoundError:
                return
            for e in entries:
                if e.name.startswith(".tmp-"):
                    continue
                key = f"{rel}{e.name}"
                if e.is_dir():
                    sub = key + "/"
                    # Skip whole directories that sort before start_after (date ranges).
                    if (sub.startswith(prefix) or prefix.startswith(sub)) and (
                        not start_after or start_after.startswith(sub) or sub > start_after
                    ):
                        yield from walk(Path(e.path), sub)
                elif key.startswith(prefix) and key > start_after:
                    yield key

        yield from walk(self.root, "")

    def delete(self, keys: Sequence[str]) -> int:
        n = 0
        for key in keys:
            path = self._path(key)
            if path.is_file():
                path.unlink()
                n += 1
        return n


class S3Objects:
    def __init__(
        self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, client: Any = None
    ) -> None:
        from callscope.extras import needs

        with needs("S3 object storage", "s3"):
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        endpoint = endpoint_url or os.environ.get("CALLSCOPE_S3_ENDPOINT_URL") or None
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),
        )
        try:
            self._client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StoreError(f"{self.url}: bucket not usable ({code or 'error'})") from None
        except BotoCoreError as exc:
            raise StoreError(f"{self.url}: cannot reach object storage: {exc}") from None

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
        )

    def put_many(
        self, items: Sequence[tuple[str, bytes]], content_type: str = "application/octet-stream"
    ) -> None:
        if len(items) < 2:
            for key, data in items:
                self.put(key, data, content_type)
            return
        # One request per object: overlap the round trips (boto3 clients are thread-safe).
        with ThreadPoolExecutor(min(_PUT_THREADS, len(items))) as pool:
            for done in [pool.submit(self.put, k, d, content_type) for k, d in items]:
                done.result()

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            got = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body: bytes = got["Body"].read()
        return body

    def keys(self, prefix: str = "", start_after: str = "") -> Iterator[str]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            kwargs["StartAfter"] = self.prefix + start_after
        for page in self._client.get_paginator("list_objects_v2").paginate(**kwargs):
            for obj in page.get("Contents", []):
                yield str(obj["Key"])[len(self.prefix) :]

    def delete(self, keys: Sequence[str]) -> int:
        n = 0
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            chunk = keys[i : i + 1000]
            self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self.prefix + k} for k in chunk], "Quiet": True},
            )
            n += len(chunk)
        return n


def open_objects(url: str, *, endpoint_url: str | None = None) -> Objects:
    text = url.strip()
    if not text:
        raise StoreError("object storage URL is empty")
    parsed = urlparse(text)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StoreError(f"{url}: s3 URL needs a bucket (s3://bucket/prefix)")
        return S3Objects(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    if parsed.scheme == "file":
        return LocalObjects(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:  # "C:" style drive letters are paths
        raise StoreError(
            f"{url}: unsupported object storage scheme {parsed.scheme!r} "
            "(use a directory, file:// or s3://bucket/prefix)"
        )
    return LocalObjects(text)
