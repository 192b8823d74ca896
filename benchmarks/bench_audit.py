"""Audit throughput: how fast `audit` re-hashes a store, next to hashing alone.

    .venv/bin/python benchmarks/bench_audit.py [--images 12] [--megabytes 8]

Builds a store under a temporary directory: one capture of a local page holding N images of
M MB of random bytes (stored uncompressed in their gzip members, as media is), which gives a
WARC of N×M MB and N working copies of M MB. Then times `audit_store` (SHA-256 + SHA-512 of
every object, the strict WARC reader over the WARC, custody checks) and, for comparison,
SHA-256 + SHA-512 alone over the same files. Prints figures; never pass/fail.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from evidence_builder import capture_run  # noqa: E402
from flows.application.cases import open_case  # noqa: E402
from flows.application.environment import open_store  # noqa: E402
from flows.demo import SiteServer  # noqa: E402
from preservation.integrity.audit import audit_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--megabytes", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        site = Path(work) / "site"
        site.mkdir()
        tags = []
        for number in range(args.images):
            (site / f"i{number}.jpg").write_bytes(b"\xff\xd8\xff" +
                                                   os.urandom(args.megabytes << 20))
            tags.append(f'<img src="/i{number}.jpg">')
        (site / "page.html").write_text("<html>" + "".join(tags) + "</html>")
        home = Path(work) / "home"
        open_case(home, "bench", "Audit benchmark", by="bench")
        with SiteServer(site) as server:
            capture_run(home, "bench", [server.url + "page.html"], analyse=False, who="bench")
        store = open_store(home)
        files = [p for p in store.local_root.rglob("*") if p.is_file() and "custody" not in p.parts]
        total = sum(p.stat().st_size for p in files)
        started = time.perf_counter()
        for path in files:
            sha256, sha512 = hashlib.sha256(), hashlib.sha512()
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    sha256.update(chunk)
                    sha512.update(chunk)
        hashing = time.perf_counter() - started
        started = time.perf_counter()
        report = audit_store(store)
        auditing = time.perf_counter() - started
        assert report.ok, report.problems
        mb = report.bytes_hashed / 1e6
        print(f"store: {len(report.objects)} objects, {mb:.0f} MB "
              f"(WARC {args.images}×{args.megabytes} MiB media + working copies)")
        print(f"sha256+sha512 alone: {total / 1e6 / hashing:7.0f} MB/s")
        print(f"audit_store:         {mb / auditing:7.0f} MB/s re-hashed "
              f"({auditing:.2f} s; includes the strict WARC reader and custody checks)")


if __name__ == "__main__":
    main()
