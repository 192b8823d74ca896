"""WARC-Block-Digest and WARC-Payload-Digest: parsed from the header, recomputed over the block.

The digests are the record's own claim about its bytes, so they are checked on every
record the reader passes over, while the block streams past (nothing holds a whole block).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from collectors.errors import ProtocolError, WarcFormatError
from collectors.http.chunked import ChunkedDecoder
from preservation.warc.reader.gzip_members import Member
from preservation.warc.reader.http_head import Headers, HttpHead, is_http, transfer_codings
from preservation.warc.reader.problems import (
    BLOCK_DIGEST_MISMATCH,
    MALFORMED_DIGEST,
    MALFORMED_HTTP,
    MISSING_DIGEST,
    PAYLOAD_DIGEST_MISMATCH,
    UNSUPPORTED_DIGEST,
)


@dataclass(frozen=True)
class Digest:
    header: str  # the header value as written, for messages
    algorithm: str
    value: bytes


def parse_digest(raw: str, member: Member) -> Digest:
    alg, sep, text = raw.strip().partition(":")
    name = alg.lower().replace("-", "")
    if not sep or not text:
        raise member.error(MALFORMED_DIGEST, "algorithm:value", raw)
    if name not in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
        raise member.error(UNSUPPORTED_DIGEST, "sha1, sha256 or sha512", alg)
    size = hashlib.new(name).digest_size
    try:
        # Hex is exactly 2 chars per byte; base32 is ~1.6, so the length tells them apart.
        if len(text) == 2 * size:
            value = bytes.fromhex(text)
        else:
            value = base64.b32decode(text + "=" * (-len(text) % 8), casefold=True)
    except (ValueError, binascii.Error):
        raise member.error(MALFORMED_DIGEST, f"{name} in hex or base32", raw) from None
    if len(value) != size:
        raise member.error(MALFORMED_DIGEST, f"{size}-byte {name} digest", raw)
    return Digest(raw, name, value)


class Verifier:
    """Recomputes a record's digests over its block while the block streams past."""

    def __init__(self, member: Member, headers: Headers, require_digest: bool) -> None:
        self._member = member
        self._problems: list[WarcFormatError] = []
        block = headers.get("WARC-Block-Digest")
        payload = headers.get("WARC-Payload-Digest")
        if block is None and require_digest:
            self._problems.append(member.error(MISSING_DIGEST, "WARC-Block-Digest", "none"))
        self._block = self._expect(block)
        # A revisit's payload digest names the payload of the record it points at, and a
        # segment carries only part of a payload: neither can be checked from this block.
        skip_payload = headers.get("WARC-Type") == "revisit" or headers.get("WARC-Segment-Number")
        self._payload = None if skip_payload else self._expect(payload)
        self.http = HttpHead() if is_http(headers) else None
        self._block_hash = hashlib.new(self._block.algorithm) if self._block else None
        self._payload_hash = hashlib.new(self._payload.algorithm) if self._payload else None
        # Some writers digest the de-chunked entity instead of the transmitted bytes;
        # either basis proves the bytes, so a chunked payload is hashed both ways.
        self._entity_started = False
        self._entity_hash: hashlib._Hash | None = None
        self._dechunk: ChunkedDecoder | None = None

    def _expect(self, raw: str | None) -> Digest | None:
        if raw is None:
            return None
        try:
            return parse_digest(raw, self._member)
        except WarcFormatError as err:
            self._problems.append(err)
            return None

    def update(self, piece: bytes) -> None:
        if self._block_hash:
            self._block_hash.update(piece)
        payload = self.http.feed(piece) if self.http else piece
        if not payload or not self._payload or not self._payload_hash:
            return
        self._payload_hash.update(payload)
        if self.http and not self._entity_started:  # payload bytes: the HTTP head is parsed
            self._entity_started = True
            if transfer_codings(self.http.headers) == ["chunked"]:
                self._dechunk = ChunkedDecoder()
                self._entity_hash = hashlib.new(self._payload.algorithm)
        if self._dechunk is not None and self._entity_hash is not None:
            try:
                if self._dechunk.done:
                    raise ProtocolError("bytes after the last chunk")
                self._entity_hash.update(self._dechunk.feed(payload))
                if self._dechunk.unconsumed:
                    raise ProtocolError("bytes after the last chunk")
            except ProtocolError:
                self._dechunk = self._entity_hash = None  # only the transmitted basis is left

    def finish(self) -> list[WarcFormatError]:
        if self._block and self._block_hash:
            self._compare(BLOCK_DIGEST_MISMATCH, self._block, [self._block_hash.digest()])
        # A head with odd lines still has a known end, so its payload digest is still checked.
        if self.http:
            self.http.finish()
            if self._payload and self.http.length is None:
                error = self._member.error(MALFORMED_HTTP, "HTTP header block", self.http.error)
                self._problems.append(error)
        if self._payload and self._payload_hash and not (self.http and self.http.length is None):
            found = [self._payload_hash.digest()]
            if self._entity_hash is not None and self._dechunk is not None and self._dechunk.done:
                found.append(self._entity_hash.digest())
            self._compare(PAYLOAD_DIGEST_MISMATCH, self._payload, found)
        return self._problems

    def _compare(self, problem: str, want: Digest, found: list[bytes]) -> None:
        if want.value not in found:
            shown = f"{want.algorithm}:{found[0].hex()}"
            expected = f"{want.header} (= {want.algorithm}:{want.value.hex()})"
            self._problems.append(self._member.error(problem, expected, shown))
