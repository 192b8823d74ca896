"""A WARC file's digests computed beside the writing: the same digests as one pass over the file,
whatever the pieces, and no helper thread left behind by a writer that closes or is abandoned."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from pathlib import Path

from preservation.warc.file_digests import FileDigests
from preservation.warc.writer import LEVEL_STORED, LEVEL_TEXT, WarcFileWriter, format_header


def _helpers() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "warc-sha512")


def _no_helper_within(seconds: float, before: int) -> bool:
    deadline = time.monotonic() + seconds
    while _helpers() > before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_digests_equal_one_pass_over_the_same_bytes_in_any_pieces() -> None:
    chooser = random.Random(13)
    digests, whole = FileDigests(), bytearray()
    for _ in range(150):
        size = chooser.choice([0, 1, 5, 4096, 65535, (1 << 20) + 7])
        data = os.urandom(size)
        piece: bytes | memoryview = data if chooser.random() < 0.5 else memoryview(data)[1:]
        digests.update(piece)
        whole += bytes(piece)
    mutable = bytearray(b"x" * 5000)
    digests.update(memoryview(mutable))  # a writable view is copied: changing it after is safe
    mutable[:] = b"y" * 5000
    whole += b"x" * 5000
    assert digests.hexdigests() == (hashlib.sha256(whole).hexdigest(),
                                    hashlib.sha512(whole).hexdigest())


def test_closed_and_abandoned_writers_leave_no_helper_thread(tmp_path: Path) -> None:
    before = _helpers()
    big = os.urandom(5 * (1 << 20))
    header = format_header([("WARC-Type", "resource"), ("Content-Length", str(len(big)))])
    closed = WarcFileWriter(tmp_path / "closed.warc.gz")
    closed.write_record(header, [big], level=LEVEL_STORED)
    result = closed.close()
    data = result.path.read_bytes()
    assert (result.sha256, result.sha512) == (hashlib.sha256(data).hexdigest(),
                                              hashlib.sha512(data).hexdigest())
    abandoned = WarcFileWriter(tmp_path / "abandoned.warc.gz")
    abandoned.write_record(header, [big], level=LEVEL_TEXT)
    left = abandoned.abandon()
    assert left.stat().st_size > 0  # its records stay, for repair
    assert _no_helper_within(10, before), "a helper thread outlived its writer"
