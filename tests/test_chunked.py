"""The chunked transfer-coding decoder, fed whole, split everywhere, and byte by byte."""

from __future__ import annotations

import pytest

from collectors.errors import ProtocolError
from collectors.http.chunked import ChunkedDecoder

BODY = (
    b"5\r\nhello\r\n"
    b"1A;name=value;flag\r\n" + bytes(range(65, 91)) + b"\r\n"
    b"000c \t;ext\r\n world again\r\n"
    b"0\r\n"
    b"Digest: sha-256=abc\r\n"
    b"X-Other:  two words \r\n"
    b"\r\n"
)
ENTITY = b"hello" + bytes(range(65, 91)) + b" world again"


def test_whole_body_decodes_with_extensions_and_trailers() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(BODY + b"NEXT") == ENTITY
    assert decoder.done
    assert decoder.unconsumed == b"NEXT"
    assert decoder.trailers == [("Digest", "sha-256=abc"), ("X-Other", "two words")]
    assert decoder.decoded_size == len(ENTITY)
    assert decoder.consumed_size == len(BODY)


def test_byte_by_byte_gives_the_same_entity() -> None:
    decoder = ChunkedDecoder()
    out = b"".join(decoder.feed(BODY[i : i + 1]) for i in range(len(BODY)))
    assert out == ENTITY
    assert decoder.done and decoder.unconsumed == b""


def test_every_two_way_split_gives_the_same_entity() -> None:
    for cut in range(len(BODY) + 1):
        decoder = ChunkedDecoder()
        assert decoder.feed(BODY[:cut]) + decoder.feed(BODY[cut:]) == ENTITY, cut
        assert decoder.done


def test_partial_chunk_data_is_returned_as_it_arrives() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"a\r\n0123") == b"0123"
    assert not decoder.done
    assert decoder.expecting == "chunk data"
    assert decoder.feed(b"456789\r\n") == b"456789"
    assert decoder.expecting == "chunk-size line"


def test_bytes_after_done_are_kept_not_decoded() -> None:
    decoder = ChunkedDecoder()
    decoder.feed(b"0\r\n\r\n")
    assert decoder.feed(b"HTTP/1.1 200") == b""
    assert decoder.unconsumed == b"HTTP/1.1 200"


def test_many_small_chunks_in_one_feed_stay_linear() -> None:
    body = b"1\r\nx\r\n" * 50_000 + b"0\r\n\r\n"
    decoder = ChunkedDecoder()
    assert decoder.feed(body) == b"x" * 50_000
    assert decoder.done


@pytest.mark.parametrize(
    "body",
    [
        b"5\r\nhelloXY",  # no CRLF after the data
        b"5\nhello\r\n",  # bare LF ends the size line
        b"5\r\nhello\r\n0\n\n",  # bare LF in the last chunk
        b"g\r\n",  # not hex
        b"\r\n",  # empty size
        b"0x5\r\nhello\r\n",  # C-style prefix
        b"-5\r\n",  # sign
        b"+5\r\n",  # sign
        b" 5\r\n",  # leading space
        b"5 x\r\nhello\r\n",  # junk after the size
        b"5\r\r\nhello\r\n",  # stray CR in the line
        b"5;a\x00b\r\nhello\r\n",  # control byte in an extension
        b"1" * 17 + b"\r\n",  # more hex digits than any real size
        b"0\r\nno colon here\r\n\r\n",  # malformed trailer field
        b"0\r\n: empty name\r\n\r\n",  # malformed trailer field
        b"0\r\nName : value\r\n\r\n",  # whitespace before the colon
    ],
)
def test_malformed_input_raises_protocol_error_fed_whole_or_bytewise(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(body)
    decoder = ChunkedDecoder()
    with pytest.raises(ProtocolError):
        for i in range(len(body)):
            decoder.feed(body[i : i + 1])


def test_size_line_length_is_capped_even_without_a_line_end() -> None:
    decoder = ChunkedDecoder(max_line=64)
    decoder.feed(b"5;" + b"e" * 60)  # 62 bytes: still within the cap
    with pytest.raises(ProtocolError, match="longer than 64"):
        decoder.feed(b"e" * 10)
    with pytest.raises(ProtocolError, match="longer than 64"):
        ChunkedDecoder(max_line=64).feed(b"5;" + b"e" * 10_000_000)


def test_trailer_section_is_capped() -> None:
    decoder = ChunkedDecoder(max_trailer=100)
    with pytest.raises(ProtocolError, match="trailer section"):
        decoder.feed(b"0\r\n" + b"X-A: aaaaaaaaaaaaaaaaaaaa\r\n" * 10)


def test_cut_body_is_not_done() -> None:
    for cut in range(len(BODY)):
        decoder = ChunkedDecoder()
        decoder.feed(BODY[:cut])
        assert not decoder.done, cut
