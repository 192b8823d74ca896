"""Integrity commands: audit, repair, timestamp, export (docs/protocol.md rules 13, 15–19)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from collectors.errors import UsageError
from flows.application.environment import default_actor_name, open_store, resolve_home
from flows.application.integrity import (
    configured_tsa,
    run_audit,
    run_export,
    run_repair,
    run_timestamp,
)
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option
from preservation.integrity.audit import iter_summary
from preservation.store.layout import check_id

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: Commands) -> None:
    audit = commands.add_parser("audit", help=command_help("audit"))
    audit.add_argument("--case", dest="case_id", metavar="CASE_ID",
                       help="only the objects of this case (the custody log is checked whole)")
    audit.add_argument("--tsa-ca", metavar="PEM", help="PEM file of trusted TSA certificates "
                       "(default: $BEARWITNESS_TSA_CA_FILE, else the chain stored with each "
                       "token)")
    add_actor_option(audit, "who runs the audit", alias="--collector")
    audit.set_defaults(handler=lambda a: audit_command(
        resolve_home(a.home), a.case_id, a.tsa_ca, a.by))

    repair = commands.add_parser("repair", help=command_help("repair"))
    add_actor_option(repair, "who runs the repair", alias="--collector")
    repair.set_defaults(handler=lambda a: repair_command(resolve_home(a.home), a.by))

    stamp = commands.add_parser("timestamp", help=command_help("timestamp"))
    stamp.add_argument("--tsa", metavar="URL", help="URL of the timestamp authority (default: "
                       "$BEARWITNESS_TSA_URL)")
    stamp.add_argument("--tsa-ca", metavar="PEM", help="PEM file of the TSA's CA chain, stored "
                       "with each token (default: $BEARWITNESS_TSA_CA_FILE)")
    stamp.add_argument("--run", dest="runs", action="append", metavar="RUN_ID",
                       help="only this run (repeatable; default: every run not yet timestamped)")
    add_actor_option(stamp, "who asks for the timestamps", alias="--collector")
    stamp.set_defaults(handler=lambda a: timestamp_command(
        resolve_home(a.home), a.tsa, a.tsa_ca, a.runs, a.by))

    export = commands.add_parser("export", help=command_help("export"))
    export.add_argument("case_id", metavar="CASE_ID", help="the case to export")
    export.add_argument("--out", required=True, metavar="DIR",
                        help="directory for the bag (new or empty)")
    export.add_argument("--items", nargs="+", metavar="ID",
                        help="only these captures (capture ids, item ids or item sha256)")
    export.add_argument("--organization", help="Source-Organization in bag-info.txt (default: "
                        "$BEARWITNESS_ORGANIZATION, else the name of --by)")
    export.add_argument("--encrypt-to", action="append", metavar="AGE_PUBLIC_KEY",
                        help="write the bag as one file encrypted for this recipient's age "
                             "public key (age1…), repeat for more; default: a plaintext bag. "
                             "The custody log records which")
    add_actor_option(export, "who exports", alias="--collector")
    export.set_defaults(handler=lambda a: export_command(
        resolve_home(a.home), a.case_id, Path(a.out), a.items, a.organization, a.by,
        a.encrypt_to))

class _ProgressPrinter:
    """Progress on stderr at most every two seconds, so long audits show they are alive."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if now - self.last >= 2 or done == total:
            self.last = now
            print(f"audit: {done}/{total} objects, {done_bytes / 1e6:.1f}/"
                  f"{total_bytes / 1e6:.1f} MB", file=sys.stderr, flush=True)


def audit_command(home: Path, case_id: str | None, tsa_ca: str | None,
                  by: str | None) -> int:
    store = open_store(home)
    if case_id:
        store.case(case_id)  # an unknown case is a usage error, not an empty audit
    started = time.monotonic()
    report = run_audit(home, store, by or default_actor_name(), case_id=case_id,
                       progress=_ProgressPrinter(), tsa_ca=tsa_ca)
    seconds = time.monotonic() - started
    for line in iter_summary(report):
        print(line)
    print(f"audit took {seconds:.1f} s ({report.bytes_hashed / 1e6 / max(seconds, 1e-6):.0f} "
          "MB/s); result appended to the custody log as fixity events")
    return EXIT_OK if report.ok else EXIT_FAILED


def repair_command(home: Path, by: str | None) -> int:
    report = run_repair(home, open_store(home), by or default_actor_name())
    for action in report.actions:
        target = f" -> {action.to}" if action.to else ""
        print(f"{action.kind:<12} {action.path}{target}: {action.detail}")
    for path in report.left_alone:
        print(f"left alone   {path}: its writer is still running")
    if not report.actions:
        print("nothing to repair")
    else:
        print(f"{len(report.actions)} repairs recorded in custody segment {report.segment}")
    return EXIT_OK


def timestamp_command(home: Path, url: str | None, ca_file: str | None,
                      runs: list[str] | None, by: str | None) -> int:
    tsa = configured_tsa(url, ca_file)
    if tsa is None:
        raise UsageError("no timestamp authority: give --tsa URL or set BEARWITNESS_TSA_URL")
    done = run_timestamp(home, open_store(home), by or default_actor_name(), tsa,
                         runs=runs)
    for stamped in done:
        print(f"timestamped {stamped.run_id} at {stamped.gen_time.isoformat()}: "
              f"{stamped.token}")
    if not done:
        print("every run is timestamped already")
    return EXIT_OK


def export_command(home: Path, case_id: str, out: Path, items: list[str] | None,
                   organization: str | None, by: str | None,
                   encrypt_to: list[str] | None = None) -> int:
    check_id("case id", case_id)
    bag = run_export(home, open_store(home), by or default_actor_name(), case_id,
                     out.resolve(), items=items, organization=organization,
                     encrypt_to=encrypt_to)
    print(f"bag {bag.external_identifier} written to {bag.path}: {len(bag.captures)} captures, "
          f"{bag.payload_files} files, {bag.payload_bytes / 1e6:.1f} MB")
    if bag.encrypted_for:
        print(f"encrypted for {len(bag.encrypted_for)} recipient(s); open it with: "
              f"age -d -i KEY {bag.path} | tar x")
    else:
        print(f"check it anywhere with: python3 {bag.path / 'verify_bag.py'} {bag.path}")
    return EXIT_OK
