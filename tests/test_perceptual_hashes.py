"""Perceptual hashes of images made here with Pillow: near copies stay near, hostile files fail
clearly."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw

from collectors.errors import AnalysisError
from verification.media.perceptual import ALGORITHMS, perceptual_hashes


def scene(seed: int, size: tuple[int, int]) -> Image.Image:
    """Smooth colour field, shapes and a little grain: photograph-like enough to hash."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (9, 16, 3), dtype=np.uint8), "RGB")
    image = coarse.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        box = (x, y, x + int(rng.integers(width // 20, width // 3)),
               y + int(rng.integers(height // 20, height // 3)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    noise = rng.normal(0, 3, (height, width, 1)).astype(np.int16)
    pixels = np.asarray(image, dtype=np.int16) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def save(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring huge dimensions with almost no data: a decompression bomb's shape,
    cheaply."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    data = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + header + data + chunk(b"IEND", b"")


def test_algorithms_are_named():
    assert ALGORITHMS == ("phash", "dhash")


def test_resized_recompressed_copy_is_near_and_unrelated_image_is_far(tmp_path):
    original = scene(1, (1280, 720))
    first = perceptual_hashes(save(original, tmp_path / "a.jpg", quality=92))
    smaller = original.resize((800, 450), Image.Resampling.BILINEAR)
    copy = perceptual_hashes(save(smaller, tmp_path / "b.jpg", quality=60))
    other = perceptual_hashes(save(scene(2, (1280, 720)), tmp_path / "c.jpg", quality=92))
    for algorithm in ALGORITHMS:
        a, b, c = (getattr(h, algorithm) for h in (first, copy, other))
        assert all(0 <= h < 2**64 for h in (a, b, c))
        assert distance(a, b) <= 10, algorithm
        assert distance(a, c) > 20, algorithm


def test_reduced_jpeg_decode_is_recorded_and_close_to_a_full_decode(tmp_path):
    path = save(scene(3, (1920, 1080)), tmp_path / "hd.jpg", quality=85)
    hashes = perceptual_hashes(path)
    assert hashes.decode == "draft 1/8 → 240x135"
    with Image.open(path) as full:
        gray = full.convert("L")
    assert distance(hashes.phash, int(str(imagehash.phash(gray)), 16)) <= 4
    assert distance(hashes.dhash, int(str(imagehash.dhash(gray)), 16)) <= 4


def test_small_or_non_jpeg_images_are_decoded_in_full(tmp_path):
    def decode(size: tuple[int, int], name: str) -> str:
        return perceptual_hashes(save(scene(4, size), tmp_path / name)).decode

    assert decode((320, 240), "s.png") == "full 320x240"
    assert decode((320, 240), "s.jpg") == "full 320x240"
    assert decode((1024, 512), "m.jpg") == "draft 1/4 → 256x128"


def test_exif_orientation_is_applied(tmp_path):
    upright = scene(5, (400, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned; a viewer rotates it 90 degrees clockwise
    stored = save(upright.transpose(Image.Transpose.ROTATE_90), tmp_path / "turned.png", exif=exif)
    plain = perceptual_hashes(save(upright, tmp_path / "upright.png"))
    turned = perceptual_hashes(stored)
    assert (turned.phash, turned.dhash) == (plain.phash, plain.dhash)
    assert turned.decode == "full 300x400, orientation 6 applied"


def test_garbage_bytes_are_a_clear_error_without_the_working_path(tmp_path):
    path = tmp_path / ("ab" * 32)
    path.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 8)
    with pytest.raises(AnalysisError, match="^cannot decode image: ") as caught:
        perceptual_hashes(path)
    assert str(tmp_path) not in str(caught.value)


def test_truncated_jpeg_is_a_clear_error(tmp_path):
    buffer = io.BytesIO()
    scene(6, (640, 480)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(AnalysisError, match="cannot decode image: .*truncated"):
        perceptual_hashes(path)


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (10_000, 9_000)])
def test_decompression_bomb_is_refused(tmp_path, width, height):
    # 10^10 pixels is past Pillow's hard limit; 9*10^7 only past its warning, which we refuse too.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(width, height))
    assert path.stat().st_size < 200
    with pytest.raises(AnalysisError, match="decompression bomb"):
        perceptual_hashes(path)


def test_formats_that_run_outside_programs_are_not_opened(tmp_path):
    path = tmp_path / "page.eps"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(AnalysisError, match="cannot decode image"):
        perceptual_hashes(path)
