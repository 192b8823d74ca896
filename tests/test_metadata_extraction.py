"""exiftool records, typed media fields and the batch engine, on files made here with Pillow."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from collectors.errors import AnalysisError, IntegrityError
from verification.media.batch_analysis import (
    AnalysisInput,
    AnalysisResult,
    analyse_all,
    analyse_batch,
)
from verification.media.exiftool_session import DROPPED_KEY, ERROR_KEY, ExifToolSession
from verification.media.fields import MediaFields, media_fields


@pytest.fixture(scope="module")
def session():
    with ExifToolSession() as s:
        yield s


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A smooth colour field with a few blocks: enough structure to hash and to compress."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "RGB")
    image = coarse.resize(size, Image.Resampling.BICUBIC)
    for _ in range(6):
        x, y = int(rng.integers(0, size[0] - 40)), int(rng.integers(0, size[1] - 40))
        image.paste(tuple(int(c) for c in rng.integers(0, 256, 3)), (x, y, x + 40, y + 30))
    return image


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6"  # Model
    exif[0x0131] = "Firmware Version 1.8.1"  # Software
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:01 12:34:56"  # DateTimeOriginal
    sub[0x9011] = "+03:00"  # OffsetTimeOriginal
    sub[0x9291] = "045"  # SubSecTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "S", (33.0, 51.0, 54.0)  # 33.865 S
    gps[3], gps[4] = "E", (151.0, 12.0, 36.0)  # 151.21 E
    return exif


def jpeg_bytes(image: Image.Image, exif: Image.Exif | None = None, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def working_copy(root: Path, data: bytes, mime: str | None = "image/jpeg") -> AnalysisInput:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "work" / "sha256" / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return AnalysisInput(sha256=digest, path=path, mime_type=mime)


def png_with_text(text_bytes: int, compressed: bool = True) -> bytes:
    """A 1x1 PNG carrying a text chunk of `text_bytes` bytes (zTXt: a few KB on disk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    squeeze = zlib.compressobj(9)
    block = b"A" * min(text_bytes, 1 << 20)
    body = b"".join(squeeze.compress(block) for _ in range(text_bytes // len(block)))
    text = chunk(b"zTXt", b"Comment\x00\x00" + body + squeeze.flush())
    if not compressed:
        text = chunk(b"tEXt", b"Comment\x00" + b"A" * text_bytes)
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + header + text + pixels + chunk(b"IEND", b"")


def test_camera_fields_come_back_typed(session, tmp_path):
    item = working_copy(tmp_path, jpeg_bytes(scene(1), camera_exif()))
    (record,) = session.read([item.path])
    assert record["EXIF:DateTimeOriginal"] == "2024:05:01 12:34:56"
    assert record["EXIF:GPSLatitudeRef"] == "S"
    fields = media_fields(record)
    assert fields.taken_at == datetime(2024, 5, 1, 12, 34, 56, 45_000)
    assert fields.taken_at_offset == "+03:00"
    assert fields.gps_lat == pytest.approx(-33.865)
    assert fields.gps_lon == pytest.approx(151.21)
    assert (fields.camera_make, fields.camera_model) == ("Canon", "Canon EOS R6")
    assert fields.software == "Firmware Version 1.8.1"
    assert (fields.width, fields.height, fields.duration_s) == (320, 240, None)


def test_jpeg_without_exif_has_no_camera_fields(session, tmp_path):
    item = working_copy(tmp_path, jpeg_bytes(scene(2)))
    fields = media_fields(session.read([item.path])[0])
    assert fields == MediaFields(None, None, None, None, None, None, None, 320, 240, None)


def test_batch_answers_in_order_even_for_repeats(session, tmp_path):
    a = working_copy(tmp_path, jpeg_bytes(scene(3)))
    b = working_copy(tmp_path, png_with_text(10), "image/png")
    records = session.read([a.path, b.path, a.path, tmp_path / "absent"])
    assert [r["SourceFile"] for r in records] == [str(a.path), str(b.path), str(a.path),
                                                  str(tmp_path / "absent")]
    assert records[0] == records[2] and records[0] is not records[2]
    assert records[1]["File:FileType"] == "PNG"
    assert records[3][ERROR_KEY] == "not a regular file"
    assert session.version.replace(".", "").isdigit()


@pytest.mark.parametrize("name", ["evil\n-ver", "with space.jpg", "caf\u00e9.jpg"])
def test_unsafe_names_are_refused_before_exiftool_runs(session, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(jpeg_bytes(scene(4)))
    with pytest.raises(AnalysisError, match="refusing to pass"):
        session.read([path])


def test_long_values_are_dropped_and_noted(tmp_path):
    item = working_copy(tmp_path, png_with_text(5000, compressed=False), "image/png")
    with ExifToolSession(max_value_chars=1000) as small:
        (record,) = small.read([item.path])
    assert "PNG:Comment" not in record
    assert record[DROPPED_KEY] == {"PNG:Comment": 5000}


def test_hostile_file_fails_alone_when_exiftool_runs_out_of_memory(tmp_path):
    good = working_copy(tmp_path, jpeg_bytes(scene(5), camera_exif()))
    # 16 MiB of text in a 16 KB file.
    bomb = working_copy(tmp_path, png_with_text(16 << 20), "image/png")
    with ExifToolSession(memory_limit_bytes=100 << 20) as tight:
        first_pid = tight.pid
        records = tight.read([good.path, bomb.path, good.path])
        assert "exiftool exited" in records[1][ERROR_KEY]
        assert records[0]["EXIF:Make"] == "Canon" and records[2]["EXIF:Make"] == "Canon"
        assert tight.read([good.path])[0]["EXIF:Model"] == "Canon EOS R6"  # started again
        assert tight.pid not in (None, first_pid)


def test_output_cap_fails_only_the_flooding_file(tmp_path):
    good = working_copy(tmp_path, jpeg_bytes(scene(6)))
    flood = working_copy(tmp_path, png_with_text(2 << 20), "image/png")
    with ExifToolSession(max_output_bytes=1 << 20) as capped:
        records = capped.read([flood.path, good.path])
    assert "output exceeded" in records[0][ERROR_KEY]
    assert records[1]["File:FileType"] == "JPEG"


def test_garbage_jpeg_keeps_metadata_and_fails_hash_alone(session, tmp_path):
    good = working_copy(tmp_path, jpeg_bytes(scene(7), camera_exif()))
    garbage = working_copy(tmp_path, b"\xff\xd8\xff" + bytes(range(256)) * 40)
    results = analyse_batch(session, [garbage, good])
    assert results[0].metadata is not None and results[0].metadata["File:FileSize"] == 10243
    assert results[0].hash_error is not None
    assert results[0].hash_error.startswith("cannot decode image")
    assert results[0].hashes == {} and results[0].hash_decode is None
    assert results[1].hash_error is None and set(results[1].hashes) == {"phash", "dhash"}
    assert results[1].fields is not None and results[1].fields.camera_make == "Canon"
    assert "File:Directory" not in results[1].metadata  # our working area is not evidence


def test_changed_or_missing_working_copy_is_an_integrity_error(session, tmp_path):
    item = working_copy(tmp_path, jpeg_bytes(scene(8)))
    item.path.write_bytes(jpeg_bytes(scene(9)))
    with pytest.raises(IntegrityError, match="expected " + item.sha256):
        analyse_batch(session, [item])
    item.path.unlink()
    with pytest.raises(IntegrityError, match="unreadable"):
        analyse_batch(session, [item])


def test_json_round_trip_is_exact(session, tmp_path):
    items = [
        working_copy(tmp_path, jpeg_bytes(scene(10), camera_exif())),
        working_copy(tmp_path, b"not an image at all", None),
        working_copy(tmp_path, b"\xff\xd8\xffbroken"),
    ]
    for result in analyse_batch(session, items):
        text = result.to_json()
        back = AnalysisResult.from_json(text)
        assert back == result
        assert back.to_json() == text
        assert json.loads(text)["schema"] == "bearwitness.analysis/1"
        envelope = json.dumps({"format": "store/1", **json.loads(text)})
        assert AnalysisResult.from_json(envelope) == result
    first = AnalysisResult.from_json(analyse_batch(session, items[:1])[0].to_json())
    assert all(type(h) is int and 0 <= h < 2**64 for h in first.hashes.values())
    assert first.analysed_at.tzinfo is not None and first.fields.taken_at.tzinfo is None


def test_workers_in_parallel_match_one_worker_in_input_order(tmp_path):
    made = [working_copy(tmp_path, jpeg_bytes(scene(20 + i), camera_exif())) for i in range(5)]
    made.append(working_copy(tmp_path, b"garbage", "image/jpeg"))
    inputs = [made[0], *made, made[3]]  # repeats are analysed once, answered twice
    seen: list[tuple[int, int]] = []
    parallel = analyse_all(inputs, workers=2, batch_size=2,
                           progress=lambda d, t: seen.append((d, t)))
    serial = analyse_all(inputs, workers=1)

    def comparable(result: AnalysisResult) -> AnalysisResult:
        return dataclasses.replace(result, analysed_at=datetime(2000, 1, 1, tzinfo=UTC))

    assert [r.sha256 for r in parallel] == [i.sha256 for i in inputs]
    assert [comparable(r) for r in parallel] == [comparable(r) for r in serial]
    assert parallel[0] is parallel[1]
    assert seen[0] == (0, len(inputs)) and seen[-1] == (len(inputs), len(inputs))


def test_integrity_error_crosses_the_process_pool(tmp_path):
    items = [working_copy(tmp_path, jpeg_bytes(scene(30 + i))) for i in range(3)]
    items[2].path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError):
        analyse_all(items, workers=2)


@pytest.mark.parametrize(
    "dump, expected",
    [
        ({"EXIF:DateTimeOriginal": "0000:00:00 00:00:00"}, (None, None)),
        ({"EXIF:DateTimeOriginal": "    :  :     :  :  "}, (None, None)),
        ({"EXIF:DateTimeOriginal": "2024:13:01 00:00:00", "EXIF:CreateDate": "2024:01:02 03:04:05"},
         (datetime(2024, 1, 2, 3, 4, 5), None)),
        ({"XMP:DateTimeOriginal": "2023:07:08 09:10:11.5-04:00"},
         (datetime(2023, 7, 8, 9, 10, 11, 500_000), "-04:00")),
        ({"QuickTime:CreateDate": "0000:00:00 00:00:00",
          "QuickTime:MediaCreateDate": "2022:02:03 04:05:06"},
         (datetime(2022, 2, 3, 4, 5, 6), "+00:00")),
        ({"QuickTime:CreationDate": "2022:02:03 07:05:06+03:00",
          "QuickTime:CreateDate": "2022:02:03 04:05:06"},
         (datetime(2022, 2, 3, 7, 5, 6), "+03:00")),
        ({"EXIF:DateTimeOriginal": "2024:05:01 12:00:00", "EXIF:OffsetTimeOriginal": "+99:00"},
         (datetime(2024, 5, 1, 12), None)),
    ],
)
def test_dates_choose_sensibly_and_reject_garbage(dump, expected):
    fields = media_fields(dump)
    assert (fields.taken_at, fields.taken_at_offset) == expected


def test_gps_and_sizes_from_other_groups():
    fields = media_fields(
        {
            "EXIF:GPSLatitude": 12.5, "EXIF:GPSLatitudeRef": "N",
            "EXIF:GPSLongitude": 45.25, "EXIF:GPSLongitudeRef": "W",
            "Composite:ImageSize": "1920 1080", "QuickTime:Duration": 12.48,
        }
    )  # fmt: skip
    assert (fields.gps_lat, fields.gps_lon) == (12.5, -45.25)
    assert (fields.width, fields.height, fields.duration_s) == (1920, 1080, 12.48)
    out_of_range = {"Composite:GPSLatitude": 91.0, "Composite:GPSLongitude": 3.0}
    assert media_fields(out_of_range).gps_lat is None
    no_refs = {"EXIF:GPSLatitude": 1.0, "EXIF:GPSLongitude": 2.0}
    assert media_fields(no_refs).gps_lat is None
    quicktime = media_fields({"QuickTime:GPSCoordinates": "48.8584 2.2945 35",
                              "QuickTime:ImageWidth": 720, "QuickTime:ImageHeight": 1280})
    assert (quicktime.gps_lat, quicktime.gps_lon, quicktime.width) == (48.8584, 2.2945, 720)
    loci = media_fields({"QuickTime:LocationInformation":
                         "(none) Role=shooting Lat=-48.85840 Lon=2.29449 Alt=0.00"})
    assert (loci.gps_lat, loci.gps_lon) == (-48.8584, 2.29449)


def test_garbage_values_never_raise():
    rng = np.random.default_rng(0)
    junk = [None, True, -1, 10**400, 10**5000, 1e308, "\u0661\u0662", "\u00b2", float("inf"), "",
            "\x00\x1b[31m", "9" * 5000, [1, 2], {"a": 1},
            "2024:02:30 25:61:61", "-0", "NaN", "1e999", "0x10", "  ", "Z", "+14:00"]
    keys = ["EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal", "EXIF:SubSecTimeOriginal",
            "EXIF:CreateDate", "Composite:GPSLatitude", "Composite:GPSLongitude",
            "EXIF:GPSLatitude", "EXIF:GPSLatitudeRef", "EXIF:GPSLongitude", "EXIF:GPSLongitudeRef",
            "QuickTime:GPSCoordinates", "EXIF:Make", "EXIF:Model", "EXIF:Software",
            "File:ImageWidth", "File:ImageHeight", "Composite:ImageSize", "QuickTime:Duration",
            "QuickTime:CreateDate", "XMP:GPSLatitude", "XMP:GPSLongitude",
            "QuickTime:LocationInformation"]
    for _ in range(300):
        dump = {key: junk[int(rng.integers(len(junk)))] for key in keys if rng.random() < 0.6}
        fields = media_fields(dump)
        assert fields.camera_make is None or fields.camera_make.isprintable()


def test_composite_tags_on_request_give_the_same_fields(tmp_path):
    item = working_copy(tmp_path, jpeg_bytes(scene(40), camera_exif()))
    with ExifToolSession(composite_tags=True) as full:
        (record,) = full.read([item.path])
    assert record["Composite:GPSLatitude"] == pytest.approx(-33.865)
    with ExifToolSession() as plain:
        (bare,) = plain.read([item.path])
    assert not any(key.startswith("Composite:") for key in bare)
    assert media_fields(record) == media_fields(bare)
