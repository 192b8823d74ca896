"""Whole-file reads: check_warc reports every problem of a WARC; extract_entity takes one entity.

check_warc is what audits and repair rely on, so it reads past a problem whenever the gzip
member still ends cleanly, and says where the sound part of the file ends when it cannot.
"""

from __future__ import annotations

import os
from typing import IO

from collectors.errors import UsageError, WarcFormatError
from preservation.warc.reader.gzip_members import Member, Readable, Source
from preservation.warc.reader.limits import DRAIN_LIMIT
from preservation.warc.reader.problems import (
    CORRUPT_MEMBER,
    NOT_GZIP,
    TORN_MEMBER,
    ExtractedEntity,
    WarcCheckReport,
    WarcProblem,
)
from preservation.warc.reader.records import iter_records, open_record


def check_warc(path: str | os.PathLike[str], *, require_digest: bool = True) -> WarcCheckReport:
    """Check every record of a gzip WARC and report problems as data. Only reads.

    A problem inside a member that still ended cleanly (a bad digest, a wrong
    Content-Length) is recorded and reading goes on with the next member. A torn or
    corrupt member, or bytes that are not gzip, end the check there: it is one problem,
    and `last_good_end` is where a repair would cut.
    """
    name = os.fspath(path)
    with open(name, "rb") as fh:
        return check_warc_stream(fh, name, os.path.getsize(name), require_digest=require_digest)


def check_warc_stream(fh: Readable, name: str, size: int, *,
                      require_digest: bool = True) -> WarcCheckReport:
    """check_warc over a stream read once from its start (an object-storage body, a
    decrypting reader); `size` is the object's length, `name` names it in problems."""
    problems: list[WarcProblem] = []
    records = last_good_end = 0
    src = Source(fh, 0)
    while not src.at_end():
        member = Member(src, name)
        found: list[WarcFormatError] = []
        try:
            record = open_record(member, require_digest, found)
            records += 1
            record._finish()
        except WarcFormatError as err:
            found.append(err)
        problems.extend(WarcProblem.from_error(err) for err in found)
        if not _skip_rest(member, problems):
            break
        assert member.length is not None
        last_good_end = member.offset + member.length
    return WarcCheckReport(name, records, problems, last_good_end, size)


def _skip_rest(member: Member, problems: list[WarcProblem]) -> bool:
    """Read on to the member's end after a problem; false if it cannot be reached."""
    if member.ended:
        return True
    if problems and problems[-1].problem in (TORN_MEMBER, CORRUPT_MEMBER, NOT_GZIP):
        return False
    try:
        return member.drain(DRAIN_LIMIT)
    except WarcFormatError as err:
        problems.append(WarcProblem.from_error(err))
        return False


def extract_entity(
    path: str | os.PathLike[str], offset: int, dest: IO[bytes], *, require_digest: bool = True
) -> ExtractedEntity:
    """Write the entity of the record at `offset` to dest, verified; see WarcRecord.write_entity.

    To extract every entity of a file in one pass, iterate `iter_records` and call
    `write_entity` on the records wanted.
    """
    records = iter_records(path, offset=offset, require_digest=require_digest)
    try:
        record = next(records, None)
        if record is None:
            raise UsageError(f"{os.fspath(path)}: no record at offset {offset}")
        return record.write_entity(dest)
    finally:
        records.close()
