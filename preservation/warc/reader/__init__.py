"""Strict, streaming reader for the gzip WARC files that hold the evidentiary copy.

warcio returns a torn last record without error and inflates without an output cap
(docs/design.md#measured-warc), so verification reads WARCs with this package instead. It reads
one gzip member per record (docs/protocol.md rule 11) and, for every record it passes over,
checks that:

- the member is a complete gzip member (the inflater, ISA-L's, verifies its CRC-32 and
  ISIZE); a file that ends inside a member raises, it never yields a partial record;
- the header is `WARC/1.0` or `WARC/1.1`, at most 64 KiB, well formed, with
  WARC-Record-ID, WARC-Type, WARC-Date and a decimal Content-Length;
- the block is exactly Content-Length bytes, followed by CRLFCRLF, followed by the
  end of the gzip member (a record split over two members, or two records in one,
  is a problem);
- WARC-Block-Digest and WARC-Payload-Digest match (sha1/sha256/sha512…, hex or
  base32), recomputed while the block streams past;
- nothing inflates past header + Content-Length + 4 (+1 byte to detect excess), so a
  gzip bomb costs at most what its own header declares.

Nothing holds a whole block in memory. Records are live views on the file: a record
is valid until the iterator advances, which finishes (and verifies) it.

The modules, from the bytes up: limits (the bounds), problems (what is reported),
gzip_members, warc_header, http_head, digests, block_stream, records (WarcRecord,
iter_records) and check (check_warc, extract_entity). Importers use this package only.
"""

from __future__ import annotations

from preservation.warc.reader.check import check_warc, check_warc_stream, extract_entity
from preservation.warc.reader.http_head import Headers

# MAX_HEADER and the problem kinds stay out of __all__, as before the split, but importers
# compare against the kinds (wr.TORN_MEMBER), so they are re-exported here ("X as X").
from preservation.warc.reader.limits import MAX_HEADER as MAX_HEADER
from preservation.warc.reader.problems import BLOCK_DIGEST_MISMATCH as BLOCK_DIGEST_MISMATCH
from preservation.warc.reader.problems import CONTENT_LENGTH_MISMATCH as CONTENT_LENGTH_MISMATCH
from preservation.warc.reader.problems import CORRUPT_MEMBER as CORRUPT_MEMBER
from preservation.warc.reader.problems import DATA_AFTER_RECORD as DATA_AFTER_RECORD
from preservation.warc.reader.problems import HEADER_TOO_LARGE as HEADER_TOO_LARGE
from preservation.warc.reader.problems import MALFORMED_CHUNKED as MALFORMED_CHUNKED
from preservation.warc.reader.problems import MALFORMED_DIGEST as MALFORMED_DIGEST
from preservation.warc.reader.problems import MALFORMED_HEADER as MALFORMED_HEADER
from preservation.warc.reader.problems import MALFORMED_HTTP as MALFORMED_HTTP
from preservation.warc.reader.problems import MISSING_DIGEST as MISSING_DIGEST
from preservation.warc.reader.problems import MISSING_FIELD as MISSING_FIELD
from preservation.warc.reader.problems import MISSING_RECORD_END as MISSING_RECORD_END
from preservation.warc.reader.problems import NOT_GZIP as NOT_GZIP
from preservation.warc.reader.problems import PAYLOAD_DIGEST_MISMATCH as PAYLOAD_DIGEST_MISMATCH
from preservation.warc.reader.problems import TORN_MEMBER as TORN_MEMBER
from preservation.warc.reader.problems import UNSUPPORTED_CODING as UNSUPPORTED_CODING
from preservation.warc.reader.problems import UNSUPPORTED_DIGEST as UNSUPPORTED_DIGEST
from preservation.warc.reader.problems import UNSUPPORTED_VERSION as UNSUPPORTED_VERSION
from preservation.warc.reader.problems import ExtractedEntity, WarcCheckReport, WarcProblem
from preservation.warc.reader.records import WarcRecord, iter_records

__all__ = [
    "ExtractedEntity",
    "Headers",
    "WarcCheckReport",
    "WarcProblem",
    "WarcRecord",
    "check_warc",
    "check_warc_stream",
    "extract_entity",
    "iter_records",
]

