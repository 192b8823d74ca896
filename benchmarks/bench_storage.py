"""Capture and audit throughput: the local store against object storage, encryption off and on.

    .venv/bin/python benchmarks/bench_storage.py [--images 8] [--megabytes 8] [--runs 2]

One run, four stores: local plaintext, local encrypted, S3 plaintext, S3 encrypted. The S3
endpoint is moto in server mode in a process of its own on 127.0.0.1 (an emulator: its put
path is slower than a real S3 server's, and loopback has no network in between). Each store
gets the same captures of a local page holding N images of M MB of random bytes (media is
stored uncompressed in its gzip member), without media analysis, timed as capture MB/s (WARC
bytes per second of `capture_urls`); then `audit_store` is timed as MB/s re-hashed (with the
case key for the encrypted stores, so plaintext and ciphertext are both checked), and the CLI's
`bearwitness audit` end to end on the S3 store. Prints figures; never pass/fail. Everything
lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from evidence_builder import STATIC  # noqa: E402
from flows.application.capture import capture_urls  # noqa: E402
from flows.application.cases import open_case  # noqa: E402
from flows.application.environment import open_store, resolve_home  # noqa: E402
from flows.demo import SiteServer  # noqa: E402
from object_storage import CREDENTIALS, environment  # noqa: E402
from preservation.integrity.audit import audit_store  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=work)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, endpoint
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("moto server did not start")


def make_site(folder: Path, images: int, megabytes: int) -> None:
    folder.mkdir()
    tags = []
    for number in range(images):
        (folder / f"i{number}.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(megabytes << 20))
        tags.append(f'<img src="/i{number}.jpg">')
    (folder / "page.html").write_text("<html>" + "".join(tags) + "</html>")


def bench_store(name: str, home: Path, url: str, runs: int, holders: dict[str, str],
                identity: Path | None) -> dict[str, float]:
    open_case(home, "bench", f"Storage benchmark ({name})", by="bench", key_holders=holders)
    captured, seconds = 0, 0.0
    for _ in range(runs):
        started = time.perf_counter()
        attempts = capture_urls(home, "bench", [url], STATIC, collector="bench",
                                analyse_media_items=False)
        seconds += time.perf_counter() - started
        captured += sum(a.record.warc.size for a in attempts if a.record is not None)
    with environment({"BEARWITNESS_IDENTITY": str(identity) if identity else ""}):
        store = open_store(home)
        started = time.perf_counter()
        report = audit_store(store)
        audit_seconds = time.perf_counter() - started
        store.close()
    if not report.ok:
        print(f"  {name}: audit found problems: {[p.line() for p in report.problems][:3]}")
    return {"capture_mb_s": captured / 1e6 / seconds, "capture_s": seconds,
            "audit_mb_s": report.bytes_hashed / 1e6 / audit_seconds,
            "audit_s": audit_seconds, "audited_mb": report.bytes_hashed / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--megabytes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=2, help="captures per store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as scratch:
        work = Path(scratch)
        make_site(work / "site", args.images, args.megabytes)
        key = work / "holder.key"
        subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
        public = next(line.split(": ", 1)[1] for line in key.read_text().splitlines()
                      if line.startswith("# public key"))
        moto, endpoint = start_moto(work)
        results: dict[str, dict[str, float]] = {}
        try:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                  aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                  aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
            with SiteServer(work / "site") as site:
                url = site.url + "page.html"
                for name, remote, sealed in (("local", False, False),
                                             ("local+encrypted", False, True),
                                             ("s3", True, False), ("s3+encrypted", True, True)):
                    values = {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS}
                    if remote:
                        bucket = f"bench-{name.replace('+', '-')}"
                        client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
                        values |= {"BEARWITNESS_LOCAL_HOME": str(work / f"{name}-local")}
                        with environment(values):
                            home = resolve_home(f"s3://{bucket}/evidence")
                    else:
                        home = work / name
                    with environment(values):
                        results[name] = bench_store(name, home, url, args.runs,
                                                    {"holder": public} if sealed else {},
                                                    key if sealed else None)
                    if name == "s3":
                        env = dict(os.environ, **values, PYTHONPATH=str(ROOT),
                                   BEARWITNESS_HOME=f"s3://{bucket}/evidence")
                        started = time.perf_counter()
                        subprocess.run([sys.executable, "-m", "flows.cli.main", "audit", "--by",
                                        "bench"], env=env, cwd=ROOT, check=True,
                                       capture_output=True)
                        results[name]["cli_audit_s"] = time.perf_counter() - started
        finally:
            moto.terminate()
            moto.wait(timeout=30)
    print(f"storage benchmark: {args.runs} captures per store of one page with {args.images} "
          f"images of {args.megabytes} MB (~{args.images * args.megabytes} MB of WARC each)")
    print(f"{'store':<17}{'capture MB/s':>14}{'audit MB/s':>12}{'audited MB':>12}")
    for name, figures in results.items():
        print(f"{name:<17}{figures['capture_mb_s']:>14.1f}{figures['audit_mb_s']:>12.1f}"
              f"{figures['audited_mb']:>12.1f}")
    for plain, sealed in (("local", "local+encrypted"), ("s3", "s3+encrypted")):
        cost = 1 - results[sealed]["capture_mb_s"] / results[plain]["capture_mb_s"]
        print(f"encryption costs {cost:.0%} of capture throughput on {plain}")
    if "cli_audit_s" in results.get("s3", {}):
        print(f"`bearwitness audit` on the s3 store, end to end: "
              f"{results['s3']['cli_audit_s']:.1f} s")


if __name__ == "__main__":
    main()
