"""Digests on a helper thread (collectors/digest_thread.py): the same digests as one pass over
the same bytes, whatever the pieces; a failure in the helper reaches the caller; no helper left
behind by a response read whole, cut short, or abandoned."""

from __future__ import annotations

import hashlib
import os
import random
import threading

import pytest

from collectors.digest_thread import BATCH, DigestThread


def _helpers(name: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == name)


def test_each_digest_equals_one_pass_over_its_own_bytes() -> None:
    chooser = random.Random(7)
    thread = DigestThread([hashlib.sha256(), hashlib.sha256(), hashlib.sha512()], "test-digests")
    wholes = [bytearray(), bytearray(), bytearray()]
    for _ in range(120):
        index = chooser.randrange(3)
        data = os.urandom(chooser.choice([0, 1, 7, 4096, 65535, BATCH + 3]))
        piece: bytes | memoryview = data if chooser.random() < 0.5 else memoryview(data)[2:]
        thread.update(index, piece)
        wholes[index] += bytes(piece)
    mutable = bytearray(b"a" * 3000)
    thread.update(1, memoryview(mutable))  # a writable view is copied: changing it after is safe
    mutable[:] = b"b" * 3000
    wholes[1] += b"a" * 3000
    found = [h.hexdigest() for h in thread.finish()]
    assert found == [hashlib.sha256(wholes[0]).hexdigest(), hashlib.sha256(wholes[1]).hexdigest(),
                     hashlib.sha512(wholes[2]).hexdigest()]


def test_less_than_a_batch_is_hashed_without_a_thread() -> None:
    before = _helpers("test-small")
    thread = DigestThread([hashlib.sha256()], "test-small")
    thread.update(0, b"x" * 1000)
    assert _helpers("test-small") == before
    assert thread.finish()[0].hexdigest() == hashlib.sha256(b"x" * 1000).hexdigest()


def test_a_failure_in_the_helper_is_raised_by_finish_and_the_caller_never_blocks() -> None:
    # Something hashlib refuses, handed over after a full batch: the helper fails, drains what
    # follows (more than its queue holds), and finish() raises what it met.
    thread = DigestThread([hashlib.sha256()], "test-failure")
    thread.update(0, os.urandom(BATCH))
    thread.update(0, "not bytes")  # type: ignore[arg-type]  # the failure under test
    for _ in range(40):
        thread.update(0, os.urandom(BATCH))
    with pytest.raises(TypeError):
        thread.finish()


def test_stopped_helper_ends() -> None:
    before = set(threading.enumerate())
    thread = DigestThread([hashlib.sha256()], "test-stop")
    for _ in range(3):
        thread.update(0, os.urandom(BATCH))
    (helper,) = [t for t in threading.enumerate() if t not in before and t.name == "test-stop"]
    thread.stop()
    helper.join(5)
    assert not helper.is_alive()
