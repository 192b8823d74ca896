"""The strict WARC reader on real files: hand-written members, warcio's files, and damage.

Every WARC here is built in the test, written to disk and read back from disk; nothing is
mocked. The hand-written members follow what our writer produces: WARC/1.1, one gzip
member per record (zlib level 6, or level 0 for already-compressed media), sha256 hex
digests, the payload digest of an application/http record taken over the bytes after the
HTTP header as transmitted (still chunked).
"""

from __future__ import annotations

import base64
import hashlib
import io
import pickle
import time
import tracemalloc
import uuid
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from collectors.errors import IntegrityError, UsageError, WarcFormatError
from preservation.warc import reader as wr
from preservation.warc.reader import check_warc, extract_entity, iter_records

ENTITY = b"<html><body>" + b"evidence " * 40 + b"</body></html>"
CHUNKED = (b"10;ext=1\r\n" + ENTITY[:16] + b"\r\n"
           + b"%x\r\n" % (len(ENTITY) - 16) + ENTITY[16:] + b"\r\n0\r\n\r\n")
HTTP_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\nX-Folded: one\r\n two\r\n\r\n"
)
JPEG_LIKE = bytes((i * 7919) % 251 for i in range(700))  # stands in for compressed media


def sha256_hex(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def record(
    warc_type: str,
    block: bytes,
    *,
    payload: bytes | None = None,
    uri: str | None = "http://example.test/",
    content_type: str = "application/http; msgtype=response",
    extra: tuple[tuple[str, str], ...] = (),
    version: bytes = b"WARC/1.1",
    content_length: int | None = None,
    digest: str | None = "sha256hex",
    end: bytes = b"\r\n\r\n",
) -> bytes:
    """One uncompressed WARC record, laid out exactly as our writer lays it out."""
    rid = uuid.uuid5(uuid.NAMESPACE_URL, warc_type + block.hex()[:64] + repr(extra))
    fields = [("WARC-Type", warc_type), ("WARC-Record-ID", f"<urn:uuid:{rid}>"),
              ("WARC-Date", "2026-11-27T08:00:00Z")]
    if uri:
        fields.append(("WARC-Target-URI", uri))
    fields.append(("Content-Type", content_type))
    if digest == "sha256hex":
        fields.append(("WARC-Block-Digest", sha256_hex(block)))
        if payload is not None:
            fields.append(("WARC-Payload-Digest", sha256_hex(payload)))
    fields += list(extra)
    fields.append(("Content-Length", str(len(block) if content_length is None else content_length)))
    head = b"".join(f"{n}: {v}\r\n".encode() for n, v in fields)
    return version + b"\r\n" + head + b"\r\n" + block + end


def gz(data: bytes, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def warcinfo() -> bytes:
    return record("warcinfo", b"software: bearwitness 0.1.0\r\nformat: WARC File Format 1.1\r\n",
                  uri=None, content_type="application/warc-fields")


def response(body: bytes = CHUNKED, head: bytes = HTTP_HEAD, **kw: object) -> bytes:
    return record("response", head + body, payload=body, **kw)  # type: ignore[arg-type]


def resource(data: bytes = JPEG_LIKE) -> bytes:
    return record("resource", data, payload=data, uri="urn:bearwitness:screenshot",
                  content_type="image/jpeg")


def write(tmp_path: Path, members: list[bytes], name: str = "t.warc.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(members))
    return path


def small_warc() -> list[bytes]:
    return [gz(warcinfo()), gz(response()), gz(resource(), level=0)]


def read_all(path: Path) -> list[tuple[tuple[tuple[str, str], ...], bytes]]:
    return [(r.headers.fields, b"".join(r.iter_block())) for r in iter_records(path)]


def problem_kinds(path: Path) -> list[str]:
    return [p.problem for p in check_warc(path).problems]


# --- good files --------------------------------------------------------------------------


def test_hand_written_warc_reads_back_with_offsets_and_fields(tmp_path: Path) -> None:
    members = small_warc()
    path = write(tmp_path, members)
    blocks = [warcinfo().split(b"\r\n\r\n", 1)[1][:-4], HTTP_HEAD + CHUNKED, JPEG_LIKE]
    starts = [sum(len(m) for m in members[:i]) for i in range(len(members))]
    seen = []
    for rec in iter_records(path):
        block = b"".join(rec.iter_block(chunk_size=100))
        seen.append((rec.offset, rec.member_length, rec.version, rec.record_type, rec.target_uri,
                     rec.content_length, rec.http_status, block))
    assert seen == [
        (starts[0], len(members[0]), "WARC/1.1", "warcinfo", None, len(blocks[0]), None, blocks[0]),
        (starts[1], len(members[1]), "WARC/1.1", "response", "http://example.test/",
         len(blocks[1]), 200, blocks[1]),
        (starts[2], len(members[2]), "WARC/1.1", "resource", "urn:bearwitness:screenshot",
         len(blocks[2]), None, blocks[2]),
    ]
    report = check_warc(path)
    assert report.ok and report.records == 3
    assert report.last_good_end == report.file_size == path.stat().st_size


def test_http_headers_are_parsed_lazily_and_the_block_still_streams_whole(tmp_path: Path) -> None:
    path = write(tmp_path, small_warc())
    records = iter_records(path)  # kept referenced: a record lives as long as its iterator
    next(records)
    rec = next(records)
    assert rec.http_start_line == "HTTP/1.1 200 OK"
    assert rec.http_headers is not None
    assert rec.http_headers.get("content-type") == "text/html; charset=utf-8"
    assert rec.http_headers.get("X-FOLDED") == "one two"
    assert rec.headers.get("warc-type") == "response"
    assert b"".join(rec.iter_block(chunk_size=7)) == HTTP_HEAD + CHUNKED
    with pytest.raises(UsageError):
        list(rec.iter_block())


def test_chunked_entity_is_extracted_dechunked_and_verified(tmp_path: Path) -> None:
    members = small_warc()
    path = write(tmp_path, members)
    dest = io.BytesIO()
    entity = extract_entity(path, len(members[0]), dest)
    assert dest.getvalue() == ENTITY
    assert entity == wr.ExtractedEntity(hashlib.sha256(ENTITY).hexdigest(), len(ENTITY), 200,
                                        "text/html; charset=utf-8", None, None)
    dest = io.BytesIO()
    media = extract_entity(path, len(members[0]) + len(members[1]), dest)
    assert dest.getvalue() == JPEG_LIKE
    assert media.content_type == "image/jpeg" and media.http_status is None


def test_warcio_agrees_with_our_payload_digest_over_transmitted_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, small_warc())
    types = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, check_digests="raise"):  # raises on a digest mismatch
            rec.content_stream().read()
            types.append(rec.rec_type)
    assert types == ["warcinfo", "response", "resource"]


def test_one_pass_extraction_of_every_entity(tmp_path: Path) -> None:
    path = write(tmp_path, small_warc())
    found = {}
    for rec in iter_records(path):
        if rec.record_type in ("response", "resource"):
            dest = io.BytesIO()
            found[rec.record_type] = (rec.write_entity(dest).sha256, dest.getvalue())
    assert found == {"response": (hashlib.sha256(ENTITY).hexdigest(), ENTITY),
                     "resource": (hashlib.sha256(JPEG_LIKE).hexdigest(), JPEG_LIKE)}


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_files_written_by_warcio_read_back_with_sha1_base32(tmp_path: Path, version: str) -> None:
    path = tmp_path / "warcio.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version=version)
        writer.write_record(writer.create_warcinfo_record("warcio.warc.gz", {"software": "warcio"}))
        req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.test")], is_http_request=True)
        writer.write_record(writer.create_warc_record("http://example.test/", "request",
                                                      http_headers=req))
        resp = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                           ("Transfer-Encoding", "chunked"),
                                           ("Content-Encoding", "identity")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("http://example.test/", "response",
                                                      payload=io.BytesIO(CHUNKED),
                                                      http_headers=resp))
        writer.write_record(writer.create_warc_record("urn:x:shot", "resource",
                                                      payload=io.BytesIO(JPEG_LIKE),
                                                      warc_content_type="image/jpeg"))
        writer.write_record(writer.create_revisit_record("http://example.test/", "sha1:" + "A" * 32,
                                                         "http://example.test/",
                                                         "2026-11-27T08:00:00Z",
                                                         http_headers=resp))
        writer.write_record(writer.create_warc_record("http://example.test/", "metadata",
                                                      payload=io.BytesIO(b"via: test\r\n"),
                                                      warc_content_type="application/warc-fields"))
    report = check_warc(path)
    assert report.ok, report.problems
    assert report.records == 6
    recs = []
    for rec in iter_records(path):
        digest = rec.headers.get("WARC-Block-Digest") or ""
        recs.append((rec.record_type, rec.version, digest.split(":")[0], len(digest.split(":")[1])))
        if rec.record_type == "response":
            dest = io.BytesIO()
            assert rec.write_entity(dest).sha256 == hashlib.sha256(ENTITY).hexdigest()
            assert dest.getvalue() == ENTITY
    record_types = ("warcinfo", "request", "response", "resource", "revisit", "metadata")
    assert [r[:2] for r in recs] == [(t, f"WARC/{version}") for t in record_types]
    assert {r[2:] for r in recs} == {("sha1", 32)}


DIGEST_FORMS = {
    "sha1-base32": lambda d: "sha1:" + base64.b32encode(hashlib.sha1(d).digest()).decode(),
    "sha1-hex": lambda d: "sha1:" + hashlib.sha1(d).hexdigest(),
    "sha256-hex": lambda d: "sha256:" + hashlib.sha256(d).hexdigest(),
    "sha256-base32": lambda d: "sha256:" + base64.b32encode(hashlib.sha256(d).digest()).decode(),
    "sha256-base32-unpadded-lower": lambda d: "SHA-256:"
    + base64.b32encode(hashlib.sha256(d).digest()).decode().rstrip("=").lower(),
    "sha512-hex": lambda d: "sha512:" + hashlib.sha512(d).hexdigest(),
    "sha512-base32": lambda d: "sha512:" + base64.b32encode(hashlib.sha512(d).digest()).decode(),
}


@pytest.mark.parametrize("form", sorted(DIGEST_FORMS))
def test_every_digest_form_is_verified_and_a_wrong_one_caught(tmp_path: Path, form: str) -> None:
    block = HTTP_HEAD + CHUNKED
    make = DIGEST_FORMS[form]
    good = record("response", block, digest=None,
                  extra=(("WARC-Block-Digest", make(block)),
                         ("WARC-Payload-Digest", make(CHUNKED))))
    assert check_warc(write(tmp_path, [gz(good)])).ok
    bad = record("response", block, digest=None,
                 extra=(("WARC-Block-Digest", make(block + b"x")),
                        ("WARC-Payload-Digest", make(CHUNKED + b"x"))))
    problems = check_warc(write(tmp_path, [gz(bad)])).problems
    assert [p.problem for p in problems] == [wr.BLOCK_DIGEST_MISMATCH, wr.PAYLOAD_DIGEST_MISMATCH]


def test_payload_digest_over_the_dechunked_entity_is_also_accepted(tmp_path: Path) -> None:
    block = HTTP_HEAD + CHUNKED
    rec = record("response", block, digest=None,
                 extra=(("WARC-Block-Digest", sha256_hex(block)),
                        ("WARC-Payload-Digest", sha256_hex(ENTITY))))
    assert check_warc(write(tmp_path, [gz(rec)])).ok


def test_unsupported_or_malformed_digest_is_a_problem(tmp_path: Path) -> None:
    block = b"abc"
    for value, problem in (("crc32:12345678", wr.UNSUPPORTED_DIGEST),
                           ("sha256:zz", wr.MALFORMED_DIGEST), ("sha256", wr.MALFORMED_DIGEST)):
        rec = record("resource", block, digest=None, content_type="text/plain",
                     extra=(("WARC-Block-Digest", value),))
        assert problem_kinds(write(tmp_path, [gz(rec)])) == [problem]


def test_missing_digest_is_a_problem_unless_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, [gz(record("resource", b"abc", digest=None, content_type="text/plain"))])
    assert problem_kinds(path) == [wr.MISSING_DIGEST]
    assert check_warc(path, require_digest=False).ok


# --- damage ------------------------------------------------------------------------------


def gzip_unprotected_positions(members: list[bytes]) -> set[int]:
    """MTIME, XFL and OS of each member's gzip header: no CRC covers them (RFC 1952)."""
    positions: set[int] = set()
    start = 0
    for member in members:
        assert member[3] == 0, "no FHCRC/FEXTRA/FNAME/FCOMMENT: the fixed 10-byte header"
        positions.update(range(start + 4, start + 10))
        start += len(member)
    return positions


def test_every_single_byte_flip_is_detected(tmp_path: Path) -> None:
    members = small_warc()
    original = b"".join(members)
    expected_records = read_all(write(tmp_path, members, "orig.warc.gz"))
    unprotected = gzip_unprotected_positions(members)
    path = tmp_path / "flip.warc.gz"
    detected, harmless, missed = 0, [], []
    for pos in range(len(original)):
        damaged = bytearray(original)
        damaged[pos] ^= 0xFF
        path.write_bytes(damaged)
        if not check_warc(path).ok:
            detected += 1
        elif pos in unprotected and read_all(path) == expected_records:
            harmless.append(pos)
        else:
            missed.append(pos)
    total = len(original)
    message = (f"{detected}/{total} flips detected; {len(harmless)} in unprotected gzip header "
               f"bytes (MTIME/XFL/OS) left every record byte-identical; missed: {missed}")
    print(message)
    assert not missed, message
    assert detected + len(harmless) == total, message
    assert detected >= total - 6 * len(members), message


def test_every_truncation_is_a_clean_shorter_file_or_one_torn_tail(tmp_path: Path) -> None:
    members = small_warc()
    original = b"".join(members)
    boundaries = [sum(len(m) for m in members[:i]) for i in range(len(members) + 1)]
    path = tmp_path / "cut.warc.gz"
    clean = torn = 0
    for cut in range(len(original)):
        path.write_bytes(original[:cut])
        report = check_warc(path)
        good_end = max(b for b in boundaries if b <= cut)
        assert report.last_good_end == good_end, cut
        if cut in boundaries:
            assert report.ok and report.records == boundaries.index(cut), cut
            clean += 1
            continue
        assert [(p.problem, p.offset) for p in report.problems] == [(wr.TORN_MEMBER, good_end)], cut
        torn += 1
        with pytest.raises(WarcFormatError) as raised:
            read_all(path)  # never a silently partial record
        assert raised.value.problem == wr.TORN_MEMBER
    print(f"{clean} clean cuts at member boundaries, {torn} torn tails, of {len(original)} cuts")
    assert clean == len(members) and clean + torn == len(original)


def bomb_member(inflated_zeros: int) -> bytes:
    """A gzip member: a small valid record, then `inflated_zeros` zero bytes, built without
    compressing them (a full flush resets the window, so one compressed MiB repeats)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    tiny = record("resource", b"tiny", content_type="text/plain")
    deflate = c.compress(tiny) + c.flush(zlib.Z_FULL_FLUSH)
    mib = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    body = deflate + mib * (inflated_zeros >> 20) + c.flush(zlib.Z_FINISH)
    # Trailer claims the truth about nothing: the reader must stop long before it.
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + b"\0" * 8


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    member = bomb_member(4 << 30)  # 4 GiB of zeros in about 4 MB
    assert len(member) < 5_000_000
    path = write(tmp_path, [gz(warcinfo()), member])
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(WarcFormatError) as raised:
            read_all(path)
        report = check_warc(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert raised.value.problem == wr.DATA_AFTER_RECORD
    assert [p.problem for p in report.problems] == [wr.DATA_AFTER_RECORD]
    assert report.records == 2 and report.last_good_end == len(gz(warcinfo()))
    assert peak < 8 << 20, f"peak traced memory {peak} bytes"
    assert elapsed < 3, f"{elapsed:.1f} s"


def test_large_block_streams_in_bounded_memory(tmp_path: Path) -> None:
    block = bytes(range(256)) * (24 << 12)  # 24 MiB
    member = gz(record("resource", block, payload=block, content_type="video/mp4"), level=0)
    path = write(tmp_path, [member])
    tracemalloc.start()
    try:
        report = check_warc(path)
        with open(tmp_path / "entity", "wb") as dest:
            size = extract_entity(path, 0, dest).size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and size == len(block)
    assert peak < 6 << 20, f"peak traced memory {peak} bytes"


def test_content_length_too_large_then_reading_goes_on(tmp_path: Path) -> None:
    block = b"abcdef"
    bad = record("resource", block, content_type="text/plain", content_length=100)
    path = write(tmp_path, [gz(bad), gz(resource())])
    report = check_warc(path)
    assert [(p.problem, p.offset, p.expected) for p in report.problems] == [
        (wr.CONTENT_LENGTH_MISMATCH, 0, "100 block bytes")]
    assert report.records == 2 and report.last_good_end == report.file_size


def test_content_length_too_small_is_a_missing_record_end(tmp_path: Path) -> None:
    bad = record("resource", b"abcdef", content_type="text/plain", content_length=3)
    report = check_warc(write(tmp_path, [gz(bad), gz(resource())]))
    assert [p.problem for p in report.problems] == [wr.MISSING_RECORD_END]
    assert report.records == 2


def test_missing_crlfcrlf_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, [gz(resource()[:-4])])
    [problem] = check_warc(path).problems
    assert problem.problem == wr.MISSING_RECORD_END
    assert problem.found == "b'' then end of gzip member"
    with pytest.raises(WarcFormatError):
        read_all(path)


def test_record_split_over_two_members_is_flagged(tmp_path: Path) -> None:
    data = resource()
    first, second = gz(data[:1000]), gz(data[1000:])
    path = write(tmp_path, [first, second, gz(warcinfo())])
    report = check_warc(path)
    assert [(p.problem, p.offset) for p in report.problems] == [
        (wr.CONTENT_LENGTH_MISMATCH, 0), (wr.MALFORMED_HEADER, len(first))]
    assert report.records == 2  # the split record and the warcinfo after it


def test_two_records_in_one_member_are_flagged(tmp_path: Path) -> None:
    report = check_warc(write(tmp_path, [gz(warcinfo() + resource()), gz(warcinfo())]))
    assert [p.problem for p in report.problems] == [wr.DATA_AFTER_RECORD]
    assert report.records == 2 and report.last_good_end == report.file_size


def test_header_limits_and_versions(tmp_path: Path) -> None:
    huge = record("resource", b"x", content_type="text/plain", extra=(("X-Pad", "p" * 70_000),))
    assert problem_kinds(write(tmp_path, [gz(huge)])) == [wr.HEADER_TOO_LARGE]
    old = record("resource", b"x", content_type="text/plain", version=b"WARC/0.17")
    assert problem_kinds(write(tmp_path, [gz(old)])) == [wr.UNSUPPORTED_VERSION]
    v10 = record("resource", b"x", content_type="text/plain", version=b"WARC/1.0")
    assert check_warc(write(tmp_path, [gz(v10)])).ok
    lf = record("resource", b"x", content_type="text/plain").replace(b"\r\nWARC-Date",
                                                                     b"\nWARC-Date")
    assert problem_kinds(write(tmp_path, [gz(lf)])) == [wr.MALFORMED_HEADER]
    plain = write(tmp_path, [v10])
    assert problem_kinds(plain) == [wr.NOT_GZIP]


def test_error_names_where_and_what_and_survives_pickling(tmp_path: Path) -> None:
    block = HTTP_HEAD + CHUNKED
    bad = record("response", block, digest=None,
                 extra=(("WARC-Block-Digest", sha256_hex(block + b"!")),))
    members = [gz(warcinfo()), gz(bad)]
    path = write(tmp_path, members)
    with pytest.raises(IntegrityError) as raised:
        extract_entity(path, len(members[0]), io.BytesIO())
    err = raised.value
    assert isinstance(err, WarcFormatError)
    assert err.problem == wr.BLOCK_DIGEST_MISMATCH and err.offset == len(members[0])
    for part in (str(path), str(err.offset), err.record_id, err.problem, err.expected, err.found):
        assert part and part in str(err)
    assert err.found == sha256_hex(block)
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.problem, copy.record_id) == (str(err), err.problem, err.record_id)


def test_extraction_refuses_a_bad_payload_and_wrong_record_types(tmp_path: Path) -> None:
    block = HTTP_HEAD + CHUNKED
    bad = record("response", block, digest=None,
                 extra=(("WARC-Block-Digest", sha256_hex(block)),
                        ("WARC-Payload-Digest", sha256_hex(b"other"))))
    path = write(tmp_path, [gz(bad), gz(warcinfo())])
    with pytest.raises(WarcFormatError, match=wr.PAYLOAD_DIGEST_MISMATCH):
        extract_entity(path, 0, io.BytesIO())
    with pytest.raises(UsageError):
        extract_entity(path, len(gz(bad)), io.BytesIO())
    with pytest.raises(WarcFormatError, match=wr.NOT_GZIP):
        extract_entity(path, 1, io.BytesIO())


def test_truncated_chunked_body_needs_warc_truncated(tmp_path: Path) -> None:
    cut = CHUNKED[:60]
    marked = response(body=cut, extra=(("WARC-Truncated", "disconnect"),))
    dest = io.BytesIO()
    entity = extract_entity(write(tmp_path, [gz(marked)]), 0, dest)
    assert entity.truncated == "disconnect"
    assert ENTITY.startswith(dest.getvalue()) and entity.size > 0
    unmarked = response(body=cut)
    assert check_warc(write(tmp_path, [gz(unmarked)])).ok  # the record itself is intact …
    with pytest.raises(WarcFormatError, match=wr.MALFORMED_CHUNKED):
        extract_entity(write(tmp_path, [gz(unmarked)]), 0, io.BytesIO())  # … but no whole entity


def test_malformed_chunking_and_http_header_are_refused(tmp_path: Path) -> None:
    garbage = response(body=b"zz\r\nhello\r\n0\r\n\r\n")
    with pytest.raises(WarcFormatError, match=wr.MALFORMED_CHUNKED):
        extract_entity(write(tmp_path, [gz(garbage)]), 0, io.BytesIO())
    # Bytes after the last chunk (a server's junk) are kept in the record, not in the entity.
    dest = io.BytesIO()
    extract_entity(write(tmp_path, [gz(response(body=CHUNKED + b"junk"))]), 0, dest)
    assert dest.getvalue() == ENTITY
    # A bad start line leaves the payload boundary known: the record checks, the entity is refused.
    bad_start = write(tmp_path, [gz(response(head=b"not http at all\r\n\r\n"))],
                      "bad-start.warc.gz")
    assert check_warc(bad_start).ok
    with pytest.raises(WarcFormatError, match=wr.MALFORMED_HTTP):
        extract_entity(bad_start, 0, io.BytesIO())
    # No end of the HTTP header at all: the payload digest cannot be checked.
    endless = write(tmp_path, [gz(response(head=b"HTTP/1.1 200 OK\r\nX: y\r\n", body=b""))],
                    "endless.warc.gz")
    assert problem_kinds(endless) == [wr.MALFORMED_HTTP]
    with pytest.raises(WarcFormatError, match=wr.MALFORMED_HTTP):
        _ = next(iter_records(endless)).http_headers


def test_bare_lf_http_header_gives_the_payload_boundary_warcio_uses(tmp_path: Path) -> None:
    head = b"HTTP/1.0 404 Not Found\nContent-Type: text/plain\n\n"
    path = write(tmp_path, [gz(response(body=b"gone", head=head))])
    assert check_warc(path).ok
    dest = io.BytesIO()
    assert extract_entity(path, 0, dest).http_status == 404 and dest.getvalue() == b"gone"
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh, check_digests="raise")
        assert [r.content_stream().read() for r in records] == [b"gone"]


def test_every_single_bit_flip_is_detected_or_changes_no_record_byte(tmp_path: Path) -> None:
    """Bit flips gzip cannot see exist (MTIME/XFL/OS, the FTEXT flag, deflate padding
    bits); none of them may change a byte of any record. The file's own SHA-256/512,
    taken at capture (docs/protocol.md rule 6), is what catches those."""
    shot = record("resource", b"shot", uri=None, content_type="image/png")
    members = [gz(warcinfo()), gz(shot, level=0)]  # a deflated and a stored member
    original = b"".join(members)
    expected_records = read_all(write(tmp_path, members, "orig.warc.gz"))
    path = tmp_path / "bit.warc.gz"
    detected = unchanged = 0
    for pos in range(len(original)):
        for bit in range(8):
            damaged = bytearray(original)
            damaged[pos] ^= 1 << bit
            path.write_bytes(damaged)
            if not check_warc(path).ok:
                detected += 1
                continue
            assert read_all(path) == expected_records, (pos, bit)
            unchanged += 1
    print(f"{detected}/{8 * len(original)} bit flips detected, {unchanged} changed no record byte")
    assert unchanged <= 8 * 6 * len(members) + 32


def test_reading_starts_at_a_member_offset_and_records_expire(tmp_path: Path) -> None:
    members = small_warc()
    path = write(tmp_path, members)
    records = iter_records(path, offset=len(members[0]))
    first = next(records)
    assert first.record_type == "response"
    second = next(records)
    assert second.record_type == "resource"
    with pytest.raises(UsageError):
        list(first.iter_block())  # the iterator advanced past it
    assert first.http_status == 200  # what was already read stays readable
    with pytest.raises(UsageError):
        list(second.iter_block(chunk_size=0))


def test_garbage_after_the_last_member_is_not_gzip(tmp_path: Path) -> None:
    members = small_warc()
    path = write(tmp_path, members + [b"\0\0\0"])
    report = check_warc(path)
    assert [(p.problem, p.offset) for p in report.problems] == [(wr.NOT_GZIP, report.last_good_end)]
    assert report.last_good_end == sum(map(len, members)) and report.records == 3


def test_bodyless_status_with_chunked_header_gives_an_empty_entity(tmp_path: Path) -> None:
    head = b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
    dest = io.BytesIO()
    entity = extract_entity(write(tmp_path, [gz(response(body=b"", head=head))]), 0, dest)
    assert (entity.http_status, entity.size, dest.getvalue()) == (304, 0, b"")


def test_entity_basis_needs_a_clean_chunked_end(tmp_path: Path) -> None:
    block = HTTP_HEAD + CHUNKED + b"junk"
    rec = record("response", block, digest=None,
                 extra=(("WARC-Block-Digest", sha256_hex(block)),
                        ("WARC-Payload-Digest", sha256_hex(ENTITY))))
    assert problem_kinds(write(tmp_path, [gz(rec)])) == [wr.PAYLOAD_DIGEST_MISMATCH]


def test_http_block_without_content_type_is_recognised_by_type_and_scheme(tmp_path: Path) -> None:
    rec = response().replace(b"Content-Type: application/http; msgtype=response\r\n", b"")
    path = write(tmp_path, [gz(rec)])
    assert check_warc(path).ok
    assert next(iter_records(path)).http_status == 200
