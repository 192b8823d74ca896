"""A real S3 endpoint on loopback for the tests: moto in server mode (its own HTTP server,
spoken to through boto3 exactly as AWS would be), and a fresh object-locked bucket per test.

What moto 5.2.5 enforces, checked by tests/test_object_store.py: conditional writes
(`If-None-Match: *` → 412), per-object COMPLIANCE and GOVERNANCE locks given on put (deleting
the version → AccessDenied), versions and delete markers. What it does not: the retention
given when a multipart upload is created (the backend sets it on the version afterwards),
a bucket's default retention, `x-amz-checksum-sha256` (a wrong one is accepted; AWS refuses
it), and GetObjectRetention (500).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bearwitness-test", "AWS_SECRET_ACCESS_KEY": "not-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


class MotoServer:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def __enter__(self) -> MotoServer:
        # One log line per request would bury a failing test's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, **CREDENTIALS}

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def new_bucket(self, *, object_lock: bool = True) -> str:
        name = f"bw-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
