"""The evidence store on S3-compatible object storage (`BEARWITNESS_HOME=s3://bucket/prefix`).

Why boto3: it is the reference S3 client, reads the standard AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION variables itself, and
exposes everything write-once evidence needs on one call: conditional writes
(`IfNoneMatch='*'`), per-object lock retention, versions, and streaming bodies. s3fs and
obstore hide object lock (and s3fs the versions) behind a file-system view.

Write-once rests on two things the server enforces (docs/integrity.md):

- every put is conditional — `If-None-Match: *`, refused with 412 when the key exists — so
  two writers (other processes, other machines) can never both store a key, and nothing
  stored is ever replaced by us. A multipart upload (objects over `multipart_threshold`)
  is conditional at its completion, and aborted when refused;
- an object-lock retention on each stored version (the case's, or the store's), so nobody
  can delete or overwrite that version until the date passes. A versioned bucket still lets
  someone with `s3:PutObject` put a *new* version over a key (or a delete marker): that hides
  the original from ordinary reads but cannot remove it, and the audit reads the first
  version and reports the key as replaced (`stat_all`).

Reads stream (`open_read` pulls the body in chunks); `local_file` materializes an object into
the private temporary area (preservation/store/private_area.py) for tools that need a file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from collectors.errors import ObjectExists, StoreError, UsageError
from preservation.store.backend import StoredObject
from preservation.store.private_area import PrivateArea
from preservation.store.retention import Retention

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RetentionRule = Callable[[str], Retention | None]
_CHUNK = 1024 * 1024
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")


@dataclass(frozen=True)
class ObjectLocation:
    bucket: str
    prefix: str  # "" or ending in "/"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_location(url: str) -> ObjectLocation:
    """`s3://bucket` or `s3://bucket/some/prefix`."""
    if not url.startswith("s3://"):
        raise UsageError(f"data home {url!r} is a URL but not s3://bucket/prefix: object "
                         "storage is reached through its S3 API")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket or any(part in ("", ".", "..") for part in prefix.strip("/").split("/")
                         if prefix.strip("/")):
        raise UsageError(f"data home {url!r}: write s3://bucket or s3://bucket/prefix")
    prefix = prefix.strip("/")
    return ObjectLocation(bucket, f"{prefix}/" if prefix else "")


def make_client(endpoint_url: str | None = None) -> S3Client:
    """An S3 client from the standard AWS variables (AWS_ENDPOINT_URL and the rest, read by
    botocore itself). Path-style addressing, which S3-compatible servers expect."""
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5,
                                                              "mode": "standard"},
                    connect_timeout=10, read_timeout=120, max_pool_connections=32)
    client: S3Client = boto3.session.Session().client("s3", endpoint_url=endpoint_url,
                                                      config=config)
    return client


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class ObjectStorageBackend:
    """The store's objects under `prefix` in one bucket. Keys are the store's own keys."""

    def __init__(self, client: S3Client, location: ObjectLocation, scratch: PrivateArea, *,
                 retention_for: RetentionRule = lambda key: None,
                 multipart_threshold: int = 64 * _CHUNK, part_size: int = 16 * _CHUNK) -> None:
        self.client = client
        self.bucket = location.bucket
        self.prefix = location.prefix
        self.scratch = scratch
        self.retention_for = retention_for
        self.multipart_threshold = multipart_threshold
        self.part_size = max(part_size, 5 * _CHUNK)  # S3's smallest part but the last

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def remote(self) -> bool:
        return True

    def _name(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise UsageError(f"not a store key: {key!r}")
        return self.prefix + key

    def _error(self, exc: Exception, doing: str, key: str) -> StoreError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            return StoreError(f"object storage refused to {doing} {self.location}{key}: "
                              f"{error.get('Code')} {error.get('Message') or ''}".rstrip())
        return StoreError(f"cannot reach object storage to {doing} {self.location}{key}: {exc}")

    # ------------------------------------------------------------ reads

    @contextlib.contextmanager
    def _reading(self, doing: str, key: str) -> Iterator[None]:
        """Object storage's errors as the backend interface's: a missing object is
        FileNotFoundError, any other failure a StoreError naming what was being done."""
        try:
            yield
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise FileNotFoundError(f"{self.location}{key}") from exc
            raise self._error(exc, doing, key) from exc
        except BotoCoreError as exc:
            raise self._error(exc, doing, key) from exc

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        with self._reading("look up", key):
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        return int(head["ContentLength"])

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def open_read(self, key: str) -> BinaryIO:
        return self.open_version(key, None)

    def open_version(self, key: str, version: str | None) -> BinaryIO:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if version:
            arguments["VersionId"] = version
        with self._reading("read", key):
            response = self.client.get_object(**arguments)
        return io.BufferedReader(_BodyReader(response["Body"], self, key), _CHUNK)

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                found += [entry["Key"][len(self.prefix):] for entry in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list", prefix) from exc
        return sorted(key for key in found if key.endswith(suffix))

    def keys_after(self, prefix: str, start_after: str | None) -> list[str]:
        """Keys under `prefix` sorting after `start_after` (the segment index's tail)."""
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        if start_after:
            arguments["StartAfter"] = self.prefix + start_after
        try:
            for page in paginator.paginate(**arguments):
                found += [entry["Key"][len(self.prefix):] for entry in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list", prefix) from exc
        return sorted(found)

    def stat_all(self, prefix: str) -> list[StoredObject]:
        """Every key with all its versions: a key written once has one version and no
        delete marker; anything else was replaced or hidden after it was stored."""
        versions: dict[str, list[dict[str, Any]]] = {}
        markers: dict[str, list[dict[str, Any]]] = {}
        paginator = self.client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for entry in page.get("Versions", []):
                    versions.setdefault(entry["Key"], []).append(dict(entry))
                for marker in page.get("DeleteMarkers", []):
                    markers.setdefault(marker["Key"], []).append(dict(marker))
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list the versions of", prefix) from exc
        found = []
        for name, entries in versions.items():
            entries.sort(key=lambda e: e["LastModified"])
            first = entries[0]
            hidden = any(m.get("IsLatest") for m in markers.get(name, []))
            found.append(StoredObject(name[len(self.prefix):], int(first["Size"]),
                                      first["LastModified"].timestamp(),
                                      versions=len(entries) + len(markers.get(name, [])),
                                      hidden=hidden, version=first.get("VersionId")))
        return sorted(found, key=lambda o: o.key)

    def local_file(self, key: str) -> Path:
        """The object in the private temporary area (downloaded once per process)."""
        known = self.scratch.copy_of(key)
        if known is not None:
            return known
        target = self.scratch.new_file(prefix="object-")
        with self.open_read(key) as source, open(target, "wb") as handle:
            while chunk := source.read(_CHUNK):
                handle.write(chunk)
        self.scratch.remember(key, target)
        return target

    # ------------------------------------------------------------ writes

    def _lock_arguments(self, key: str) -> dict[str, Any]:
        retention = self.retention_for(key)
        if retention is None:
            return {}
        return {"ObjectLockMode": retention.mode,
                "ObjectLockRetainUntilDate": retention.until()}

    def put_bytes(self, key: str, data: bytes) -> None:
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self._put(key, data, checksum)

    def adopt_file(self, key: str, source: Path) -> None:
        """Store the scratch file `source`, then remove it (nothing to link to here)."""
        self.put_file(key, source)
        source.unlink(missing_ok=True)

    def put_file(self, key: str, source: Path) -> None:
        size = source.stat().st_size
        if size > self.multipart_threshold:
            self._put_multipart(key, source)
            return
        digest = hashlib.sha256()
        with open(source, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        with open(source, "rb") as handle:
            self._put(key, handle, base64.b64encode(digest.digest()).decode())

    def _put(self, key: str, body: bytes | BinaryIO, checksum: str) -> None:
        name = self._name(key)
        try:
            # ChecksumSHA256: the server refuses a body that did not arrive intact.
            self.client.put_object(Bucket=self.bucket, Key=name, Body=body, IfNoneMatch="*",
                                   ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum,
                                   **self._lock_arguments(key))
        except ClientError as exc:
            if _status(exc) == 412 or _code(exc) in ("PreconditionFailed",
                                                     "ConditionalRequestConflict"):
                raise ObjectExists(f"{self.location}{key} already exists; stored objects are "
                                   "never replaced") from exc
            raise self._error(exc, "store", key) from exc
        except BotoCoreError as exc:
            raise self._error(exc, "store", key) from exc

    def _put_multipart(self, key: str, source: Path) -> None:
        name = self._name(key)
        lock = self._lock_arguments(key)
        try:
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=name, **lock)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "store", key) from exc
        upload_id = upload["UploadId"]
        try:
            parts = []
            with open(source, "rb") as handle:
                number = 1
                while chunk := handle.read(self.part_size):
                    part = self.client.upload_part(Bucket=self.bucket, Key=name,
                                                   UploadId=upload_id, PartNumber=number,
                                                   Body=chunk)
                    parts.append({"ETag": part["ETag"], "PartNumber": number})
                    number += 1
            done = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=name, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, IfNoneMatch="*")  # type: ignore[typeddict-item]
        except ClientError as exc:
            self._abort(name, upload_id)
            if _status(exc) == 412 or _code(exc) in ("PreconditionFailed",
                                                     "ConditionalRequestConflict"):
                raise ObjectExists(f"{self.location}{key} already exists; stored objects are "
                                   "never replaced") from exc
            raise self._error(exc, "store", key) from exc
        except (BotoCoreError, OSError) as exc:
            self._abort(name, upload_id)
            raise self._error(exc, "store", key) from exc
        if lock:
            self._ensure_retention(key, done.get("VersionId"), lock)

    def _abort(self, name: str, upload_id: str) -> None:
        # An upload left open stores nothing under the key; a lifecycle rule ends it.
        with contextlib.suppress(ClientError, BotoCoreError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)

    def _ensure_retention(self, key: str, version: str | None, lock: dict[str, Any]) -> None:
        """S3 applies the retention given when a multipart upload is created; some
        S3-compatible servers (moto 5.2.5) do not, so it is set on the version if missing."""
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._name(key)}
        if version:
            arguments["VersionId"] = version
        try:
            head: dict[str, Any] = dict(self.client.head_object(**arguments))
            if head.get("ObjectLockMode"):
                return
            self.client.put_object_retention(**arguments, Retention={
                "Mode": lock["ObjectLockMode"],
                "RetainUntilDate": lock["ObjectLockRetainUntilDate"]})
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "lock", key) from exc

    def destroy(self, key: str) -> None:
        """Every version and delete marker of exactly `key` (key material only: it is stored
        without retention, so that it can be destroyed)."""
        name = self._name(key)
        paginator = self.client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=name):
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if entry["Key"] == name:
                        self.client.delete_object(Bucket=self.bucket, Key=name,
                                                  VersionId=entry["VersionId"])
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "destroy", key) from exc

    def put_unlocked(self, key: str, data: bytes) -> None:
        """Key material: stored without retention (so that it can be destroyed), still
        never silently over an existing key."""
        name = self._name(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if _status(exc) == 412:
                raise ObjectExists(f"{self.location}{key} already exists") from exc
            raise self._error(exc, "store", key) from exc
        except BotoCoreError as exc:
            raise self._error(exc, "store", key) from exc


class _BodyReader(io.RawIOBase):
    """A streaming GET body as a raw file object, so it can be buffered and read in chunks."""

    def __init__(self, body: Any, backend: ObjectStorageBackend, key: str) -> None:
        self._body = body
        self._backend = backend
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except (BotoCoreError, OSError) as exc:
            raise self._backend._error(exc, "read", self._key) from exc
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
