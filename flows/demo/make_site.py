"""Generate the demo site's binary assets (images, video, audio) into flows/demo/site/.

Run as `python -m flows.demo.make_site`. The outputs are committed, so users and tests get the
site without Pillow or ffmpeg doing anything at run time; this script is how they were made and
how to remake them. Every random choice comes from a fixed seed, so two runs on the same Pillow,
libjpeg and ffmpeg give the same bytes (other versions may encode differently, which is why the
tests check what the files claim — EXIF, sizes, perceptual distances — and not their hashes).

The photographs are procedural scenes, not test patterns: perceptual hashes only mean something
when images have photo-like structure, and the demo needs one near-duplicate pair (the market photo
and its re-post) and pictures that are clearly unrelated to it.
"""

from __future__ import annotations

import io
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont, TiffImagePlugin

SITE = Path(__file__).resolve().parent / "site"
Rgb = tuple[int, int, int]

# The claims the EXIF makes. tests/test_demo_site.py states the same values literally, as exiftool
# reads them.
MARKET_EXIF = {
    "Make": "samsung",
    "Model": "SM-A525F",
    "DateTimeOriginal": "2026:03:12 14:05:09",
    "OffsetTimeOriginal": "+03:00",
    "GPSLatitude": "36.2021",
    "GPSLatitudeRef": "N",
    "GPSLongitude": "37.1343",
    "GPSLongitudeRef": "E",
}
CHECKPOINT_EXIF = {
    "Make": "Canon",
    "Model": "Canon EOS 5D Mark IV",
    "DateTimeOriginal": "2026:02:27 07:41:30",
    "ModifyDate": "2026:03:15 22:17:45",
    "Software": "Adobe Photoshop 25.0",
    "GPSLatitude": "36.2395",
    "GPSLatitudeRef": "N",
    "GPSLongitude": "37.0472",
    "GPSLongitudeRef": "E",
}


# ---------------------------------------------------------------- drawing helpers

def _vertical_gradient(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top: Rgb,
                       bottom: Rgb) -> None:
    x0, y0, x1, y1 = box
    span = max(1, y1 - y0 - 1)
    for y in range(y0, y1):
        t = (y - y0) / span
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(x0, y), (x1, y)], fill=colour)


def _jitter(rng: random.Random, colour: Rgb, amount: int) -> Rgb:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)
    return (r, g, b)


def _finish(img: Image.Image, rng: random.Random, blur: float, grain: float) -> Image.Image:
    """Soften edges and add sensor grain: hard-edged vector drawings hash and compress unlike
    photos."""
    img = img.filter(ImageFilter.GaussianBlur(blur))
    noise = Image.frombytes("L", img.size, rng.randbytes(img.width * img.height))
    noise = noise.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")
    return Image.blend(img, noise, grain)


def _person(draw: ImageDraw.ImageDraw, rng: random.Random, x: int, feet: int, height: int) -> None:
    clothes = _jitter(rng, rng.choice([(60, 70, 110), (120, 40, 40), (40, 90, 60), (30, 30, 30),
                                       (150, 130, 100)]), 20)
    skin = _jitter(rng, (170, 125, 95), 20)
    w = height // 4
    head = height // 7
    draw.rounded_rectangle([x - w // 2, feet - height + head, x + w // 2, feet], radius=w // 3,
                           fill=clothes)
    draw.ellipse([x - head // 2, feet - height, x + head // 2, feet - height + head + 2], fill=skin)


# ---------------------------------------------------------------- the three photographs

def draw_market(seed: int = 1201) -> Image.Image:
    """A street market by day: bright sky, a row of façades, striped awnings, stalls, a crowd,
    smoke."""
    rng = random.Random(seed)
    w, h = 1280, 853
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    _vertical_gradient(d, (0, 0, w, 330), (118, 160, 206), (206, 214, 222))
    _vertical_gradient(d, (0, 330, w, h), (150, 138, 120), (98, 88, 76))
    x = -20
    while x < w:  # façades with windows
        bw, top = rng.randint(110, 210), rng.randint(110, 250)
        wall = _jitter(rng, (200, 178, 140), 18)
        d.rectangle([x, top, x + bw, 470], fill=wall)
        for wy in range(top + 20, 400, 46):
            for wx in range(x + 14, x + bw - 24, 36):
                d.rectangle([wx, wy, wx + 18, wy + 26], fill=_jitter(rng, (70, 62, 58), 12))
        x += bw
    stripes = [((200, 40, 40), (235, 230, 220)), ((40, 80, 170), (230, 230, 230)),
               ((40, 130, 70), (225, 200, 60))]
    for i, ax in enumerate(range(0, w, 160)):  # awnings over the stalls
        a, b = stripes[(i + rng.randint(0, 2)) % 3]
        for s in range(8):
            d.polygon([(ax + s * 20, 400), (ax + s * 20 + 20, 400), (ax + s * 22 + 26, 470),
                       (ax + s * 22, 470)], fill=a if s % 2 else b)
        d.rectangle([ax + 6, 470, ax + 150, 540], fill=_jitter(rng, (110, 75, 45), 12))
        for _ in range(40):  # produce piled on the counter
            px, py = ax + rng.randint(12, 144), rng.randint(456, 500)
            r = rng.randint(5, 9)
            fruit = rng.choice([(230, 120, 20), (200, 30, 30), (90, 160, 40), (230, 200, 40)])
            d.ellipse([px - r, py - r, px + r, py + r], fill=_jitter(rng, fruit, 15))
    smoke = Image.new("L", (w, h), 0)
    sd = ImageDraw.Draw(smoke)
    for i in range(14):  # a plume rising behind the roofs
        cx, cy, r = 860 + rng.randint(-60, 60) + i * 8, 330 - i * 22, 40 + i * 6
        sd.ellipse([cx - r, cy - r, cx + r, cy + r], fill=150 + rng.randint(0, 60))
    img.paste((72, 70, 68), mask=smoke.filter(ImageFilter.GaussianBlur(22)))
    for _ in range(60):  # debris on the street
        px, py = rng.randint(0, w), rng.randint(560, h)
        d.polygon([(px, py), (px + rng.randint(4, 16), py + rng.randint(-6, 6)),
                   (px + rng.randint(0, 10), py + 8)], fill=_jitter(rng, (60, 55, 50), 15))
    for _ in range(16):
        feet = rng.randint(600, 840)
        _person(d, rng, rng.randint(20, w - 20), feet, 90 + (feet - 560))
    return _finish(img, rng, blur=1.1, grain=0.05)


def draw_checkpoint(seed: int = 2702) -> Image.Image:
    """A road checkpoint at dawn: a concrete tower fills the left third, an open road runs to the
    right."""
    rng = random.Random(seed)
    w, h = 1280, 853
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    _vertical_gradient(d, (0, 0, w, h), (232, 196, 160), (176, 168, 160))  # low dawn sky
    d.polygon([(0, 430), (300, 380), (700, 410), (1100, 370), (w, 400), (w, h), (0, h)],
              fill=(112, 104, 84))
    d.polygon([(560, 420), (700, 420), (w, 700), (w, h), (140, h)], fill=(64, 64, 68))  # the road
    for y in range(440, h, 60):
        cx = 630 + (y - 420) * 0.55
        d.rectangle([cx - 3, y, cx + 3, y + 24 + (y - 420) // 10], fill=(210, 190, 90))
    d.rectangle([0, 80, 400, h], fill=(92, 90, 88))  # watch tower and wall, dark against the sky
    d.rectangle([30, 20, 380, 90], fill=(70, 66, 62))
    for wy in (150, 330):
        d.rectangle([90, wy, 310, wy + 40], fill=(24, 24, 26))
    for i in range(9):  # sandbags at its foot
        bx = 20 + i * 44
        d.ellipse([bx, 700, bx + 60, 740], fill=_jitter(rng, (150, 135, 95), 10))
    d.rectangle([430, 555, 1200, 575], fill=(235, 235, 235))  # the boom barrier
    for bx in range(430, 1200, 80):
        d.rectangle([bx, 555, bx + 40, 575], fill=(200, 30, 30))
    for i in range(5):  # staggered concrete blocks
        bx, by = 500 + i * 150, 620 + (i % 2) * 70
        block = [(bx, by), (bx + 110, by), (bx + 95, by - 60), (bx + 15, by - 60)]
        d.polygon(block, fill=_jitter(rng, (190, 186, 178), 8))
    d.rectangle([760, 470, 900, 540], fill=(60, 70, 50))  # a waiting truck
    d.ellipse([775, 525, 805, 555], fill=(20, 20, 20))
    d.ellipse([855, 525, 885, 555], fill=(20, 20, 20))
    for fx in range(960, w, 55):  # fence posts with wire
        d.line([(fx, 420), (fx, 520)], fill=(50, 45, 40), width=5)
    for wy in (440, 470, 500):
        d.line([(960, wy), (w, wy - 20)], fill=(70, 65, 60), width=2)
    return _finish(img, rng, blur=1.0, grain=0.05)


def draw_night(seed: int = 1803) -> Image.Image:
    """A convoy on a ring road at night: dark skyline, lit windows, street lamps, headlights."""
    rng = random.Random(seed)
    w, h = 1024, 683
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    _vertical_gradient(d, (0, 0, w, h), (8, 12, 30), (22, 24, 32))
    x = 0
    while x < w:  # skyline
        bw, top = rng.randint(50, 130), rng.randint(180, 360)
        d.rectangle([x, top, x + bw, 480], fill=(6, 7, 10))
        for _ in range(rng.randint(0, 5)):
            wx, wy = rng.randint(x + 5, x + bw - 12), rng.randint(top + 8, 460)
            d.rectangle([wx, wy, wx + 8, wy + 10], fill=_jitter(rng, (220, 170, 80), 25))
        x += bw
    d.rectangle([0, 480, w, h], fill=(20, 20, 24))
    glow = Image.new("L", (w, h), 0)
    gd = ImageDraw.Draw(glow)
    for lx in range(60, w, 180):  # street lamps
        d.line([(lx, 300), (lx, 500)], fill=(30, 30, 34), width=4)
        gd.ellipse([lx - 30, 280, lx + 30, 330], fill=255)
    for i in range(6):  # headlights of the convoy, receding to the right
        cx, cy, s = 140 + i * 140, 560 - i * 10, 16 - i
        d.rectangle([cx - 40, cy - 30, cx + 40, cy + 5], fill=(14, 14, 16))
        for hx in (cx - 28, cx + 28):
            gd.ellipse([hx - s, cy - s // 2, hx + s, cy + s // 2], fill=255)
    img.paste((255, 236, 190), mask=glow.filter(ImageFilter.GaussianBlur(14)))
    img.paste((255, 250, 240), mask=glow.filter(ImageFilter.GaussianBlur(2)))
    return _finish(img, rng, blur=0.8, grain=0.03)


# ---------------------------------------------------------------- EXIF

def _dms(value: str) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """Degrees, minutes, seconds as exact rationals, so exiftool reads back the decimal we wrote."""
    v = Decimal(value)
    deg = int(v)
    minutes = int((v - deg) * 60)
    seconds = ((v - deg) * 60 - minutes) * 60
    R = TiffImagePlugin.IFDRational
    return R(deg, 1), R(minutes, 1), R(int(seconds * 10000), 10000)


def make_exif(claims: dict[str, str]) -> Image.Exif:
    exif = Image.Exif()
    for name in ("Make", "Model", "Software"):
        if name in claims:
            exif[ExifTags.Base[name]] = claims[name]
    if "ModifyDate" in claims:
        exif[ExifTags.Base.DateTime] = claims["ModifyDate"]
    exif[ExifTags.Base.Orientation] = 1
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = claims["DateTimeOriginal"]
    if "OffsetTimeOriginal" in claims:
        sub[ExifTags.Base.OffsetTimeOriginal] = claims["OffsetTimeOriginal"]
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[ExifTags.GPS.GPSLatitudeRef] = claims["GPSLatitudeRef"]
    gps[ExifTags.GPS.GPSLatitude] = _dms(claims["GPSLatitude"])
    gps[ExifTags.GPS.GPSLongitudeRef] = claims["GPSLongitudeRef"]
    gps[ExifTags.GPS.GPSLongitude] = _dms(claims["GPSLongitude"])
    return exif


# ---------------------------------------------------------------- small decorative images

def draw_texture(size: tuple[int, int], base: Rgb, seed: int, grain: float) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", size, base)
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    noise = noise.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(img, noise.convert("RGB"), grain)


def draw_banner(size: tuple[int, int], top: Rgb, bottom: Rgb, seed: int) -> Image.Image:
    img = Image.new("RGB", size)
    d = ImageDraw.Draw(img)
    _vertical_gradient(d, (0, 0, *size), top, bottom)
    for x in range(-size[1], size[0], 24):  # faint diagonal hatching
        d.line([(x, size[1]), (x + size[1], 0)], fill=tuple(min(255, c + 10) for c in bottom),
               width=2)
    return _finish(img, random.Random(seed), blur=1.5, grain=0.02)


def draw_icon(kind: str) -> Image.Image:
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "camera":
        d.rounded_rectangle([2, 9, 29, 27], radius=4, fill=(40, 44, 52, 255))
        d.rectangle([10, 5, 20, 10], fill=(40, 44, 52, 255))
        d.ellipse([10, 12, 22, 24], fill=(230, 230, 230, 255))
        d.ellipse([13, 15, 19, 21], fill=(40, 44, 52, 255))
    else:  # the site's logo: an eye in a circle
        d.ellipse([1, 1, 30, 30], fill=(24, 88, 96, 255))
        d.ellipse([6, 11, 25, 21], fill=(245, 240, 230, 255))
        d.ellipse([12, 12, 19, 20], fill=(24, 88, 96, 255))
    return img


def draw_map() -> Image.Image:
    """A flat-colour sketch map of the places in the reports; a palette PNG stays small."""
    w, h = 800, 520
    img = Image.new("RGB", (w, h), (238, 232, 214))
    d = ImageDraw.Draw(img)
    river = [(0, 380), (180, 340), (330, 390), (520, 300), (800, 330)]
    d.line(river, fill=(120, 170, 210), width=14)
    roads = ([(60, 0), (250, 240), (420, 520)], [(0, 170), (400, 210), (800, 120)],
             [(540, 0), (500, 260), (640, 520)])
    for road in roads:
        d.line(road, fill=(255, 255, 255), width=9)
        d.line(road, fill=(200, 170, 120), width=5)
    d.ellipse([230, 190, 420, 300], outline=(150, 60, 40), width=4)  # ring road
    font = ImageFont.load_default(size=15)
    places = (((330, 228), "Covered market"), ((520, 95), "Checkpoint 4"),
              ((250, 300), "Ring road"))
    for (x, y), label in places:
        d.ellipse([x - 7, y - 7, x + 7, y + 7], fill=(190, 30, 30))
        d.text((x + 12, y - 9), label, fill=(30, 30, 30), font=font)
    d.polygon([(760, 20), (770, 50), (750, 50)], fill=(30, 30, 30))
    d.text((752, 54), "N", fill=(30, 30, 30), font=font)
    d.rectangle([20, 480, 220, 500], outline=(30, 30, 30), width=2)
    d.text((24, 458), "0        500 m", fill=(30, 30, 30), font=font)
    return img.quantize(colors=16, dither=Image.Dither.NONE)


# ---------------------------------------------------------------- writing

def save_jpeg(img: Image.Image, path: Path, quality: int, exif: Image.Exif | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # exif=b"" rather than None: Pillow must not carry over anything from a source image.
    img.save(path, "JPEG", quality=quality, optimize=True,
             exif=exif.tobytes() if exif is not None else b"")


def save_png(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG", optimize=True)


def _ffmpeg(*args: str) -> bytes:
    # bitexact and one thread: x264 output then depends only on its version and input, not on
    # timing.
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def make_media(site: Path) -> None:
    """A 3 s H.264 clip panning across the night photo, its poster frame, and a short audio
    track."""
    media = site / "media"
    media.mkdir(parents=True, exist_ok=True)
    night = str(site / "img" / "photo-night.jpg")
    _ffmpeg("-loop", "1", "-framerate", "25", "-t", "3", "-i", night,
            "-f", "lavfi", "-t", "3", "-i", "sine=frequency=220:sample_rate=44100",
            "-filter_complex",
            "[0:v]scale=640:427,crop=320:240:x='t*80':y=120,format=yuv420p[v];[1:a]volume=0.1[a]",
            "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "medium", "-crf", "26",
            "-threads", "1", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k",
            "-movflags", "+faststart", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", str(media / "clip.mp4"))
    frame = _ffmpeg("-ss", "1", "-i", str(media / "clip.mp4"), "-frames:v", "1",
                    "-f", "image2pipe", "-c:v", "png", "-")
    save_jpeg(Image.open(io.BytesIO(frame)).convert("RGB"), media / "clip-poster.jpg", quality=85)
    _ffmpeg("-f", "lavfi",
            "-i", "anoisesrc=color=brown:seed=7:duration=4:amplitude=0.2:sample_rate=44100",
            "-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags", "+bitexact", str(media / "ambient.m4a"))


def make_images(site: Path) -> None:
    img = site / "img"
    market = draw_market()
    save_jpeg(market, img / "photo-market.jpg", quality=88, exif=make_exif(MARKET_EXIF))
    # The re-post: what a platform does to an upload — half size, harsher compression, metadata
    # gone.
    small = market.resize((market.width // 2, market.height // 2), Image.Resampling.LANCZOS)
    save_jpeg(small, img / "photo-market-small.jpg", quality=60)
    checkpoint = draw_checkpoint()
    save_jpeg(checkpoint, img / "photo-checkpoint.jpg", quality=85, exif=make_exif(CHECKPOINT_EXIF))
    for width in (640, 960):  # srcset variants, stripped as web pipelines usually do
        height = round(checkpoint.height * width / checkpoint.width)
        variant = checkpoint.resize((width, height), Image.Resampling.LANCZOS)
        save_jpeg(variant, img / f"photo-checkpoint-{width}.jpg", quality=80)
    night = draw_night()
    save_jpeg(night, img / "photo-night.jpg", quality=85)
    # The night report's hero banner is a strip of the same scene, as sites cut banners from photos.
    banner = night.crop((0, 150, 1024, 406)).resize((1200, 300), Image.Resampling.LANCZOS)
    save_jpeg(banner, img / "banner-night.jpg", quality=80)
    save_png(draw_map(), img / "map.png")
    save_jpeg(draw_texture((256, 256), (236, 229, 214), seed=31, grain=0.06),
              img / "bg-texture.jpg", quality=80)
    save_jpeg(draw_texture((600, 200), (246, 240, 226), seed=32, grain=0.04),
              img / "quote-bg.jpg", quality=80)
    save_jpeg(draw_banner((1200, 220), (18, 70, 78), (30, 40, 48), seed=33),
              img / "bg-header.jpg", quality=80)
    save_png(draw_icon("camera"), img / "icon-camera.png")
    save_png(draw_icon("logo"), img / "favicon.png")


def main() -> int:
    make_images(SITE)
    make_media(SITE)
    total = 0
    for path in sorted(p for p in SITE.rglob("*") if p.is_file()):
        total += path.stat().st_size
        print(f"{path.stat().st_size:>9,}  {path.relative_to(SITE)}")
    print(f"{total:>9,}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
