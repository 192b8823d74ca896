"""The bounds the reader keeps, in one place.

Every read is capped, so a damaged or hostile WARC costs at most these bounds plus what
its own headers declare.
"""

from __future__ import annotations

MAX_HEADER = 64 * 1024  # WARC header block, and separately an HTTP header block
READ_SIZE = 64 * 1024  # compressed bytes per file read
DRAIN_LIMIT = 64 * 1024 * 1024  # check_warc: inflate at most this much to skip a bad member
