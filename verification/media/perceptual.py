"""Perceptual hashes of one image working copy: phash and dhash from one decoded picture.

JPEGs are decoded at reduced scale (libjpeg's DCT scaling via `Image.draft`): measured 4x
faster than a full decode, with hashes a median of 0 and at most 4 bits away from the full
decode's. `decode` records what was done, because a hash is only comparable knowing that.
The EXIF orientation is applied, so a hash describes the picture as a viewer shows it, as a
platform that strips metadata and rotates the pixels would publish it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image

from collectors.errors import AnalysisError

ALGORITHMS = ("phash", "dhash")

# Only common raster formats: Pillow would otherwise try every plugin it has, some of which
# hand the file to outside programs (EPS runs Ghostscript).
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP", "TIFF")

# phash samples a 32x32 thumbnail; keeping 128 px on the short side after reduction keeps
# the reduced decode's hashes within the measured few bits of a full decode.
_MIN_REDUCED_SIDE = 128
_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class PerceptualHashes:
    phash: int  # unsigned 64-bit
    dhash: int  # unsigned 64-bit
    decode: str  # e.g. "draft 1/8 → 240x135" or "full 640x480", plus any orientation applied


def perceptual_hashes(path: Path) -> PerceptualHashes:
    """Hash the first frame of the image at `path` (read only).

    Raises AnalysisError if the image is larger than Pillow's MAX_IMAGE_PIXELS (a possible
    decompression bomb) or cannot be decoded.
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as image:
                _refuse_bomb(image)
                gray, decode = _decode_gray(image)
    except AnalysisError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise AnalysisError(f"image refused as a possible decompression bomb: {exc}") from exc
    except Exception as exc:
        # Pillow raises many types on hostile input (OSError, SyntaxError, ValueError,
        # struct.error, ...). Each becomes a recorded hash failure, never a silent success.
        # The working area's location is this machine's business, not the record's.
        detail = str(exc).replace(str(path), Path(path).name)
        raise AnalysisError(f"cannot decode image: {type(exc).__name__}: {detail}") from exc
    return PerceptualHashes(
        phash=int(str(imagehash.phash(gray)), 16),
        dhash=int(str(imagehash.dhash(gray)), 16),
        decode=decode,
    )


def _refuse_bomb(image: Image.Image) -> None:
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise AnalysisError(
            f"image refused as a possible decompression bomb: {width}x{height} = "
            f"{width * height} pixels, over the limit of {limit}"
        )


def _decode_gray(image: Image.Image) -> tuple[Image.Image, str]:
    width, height = image.size
    orientation = _orientation(image)
    scale = _draft_scale(width, height) if image.format in ("JPEG", "MPO") else 1
    # "L" asks libjpeg for the luma plane only: the hashes are computed on grey anyway.
    drafted = image.draft("L", (width // scale, height // scale)) if scale > 1 else None
    if drafted is not None:
        actual = round(width / drafted[1][2])
        decode = f"draft 1/{actual} → {image.size[0]}x{image.size[1]}"
    else:
        decode = f"full {width}x{height}"
    gray = image.convert("L")
    if orientation in _TRANSPOSE:
        gray = gray.transpose(_TRANSPOSE[orientation])
        decode += f", orientation {orientation} applied"
    return gray, decode


def _orientation(image: Image.Image) -> int | None:
    try:
        value = image.getexif().get(_ORIENTATION_TAG)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the pixels being hashed
        return None
    return value if isinstance(value, int) else None


def _draft_scale(width: int, height: int) -> int:
    for scale in (8, 4, 2):
        if min(width, height) // scale >= _MIN_REDUCED_SIDE:
            return scale
    return 1
