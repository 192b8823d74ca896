"""Perceptual hashes of video: frames at a fixed interval from the working copy, each hashed.

ffmpeg decodes the working copy (never the evidentiary WARC) to small greyscale frames at a
fixed rate; each frame gets a phash and a dhash with its time. A re-encoded, resized or trimmed
copy has frames whose hashes lie within a few bits of the original's: the catalog's
`video_near_duplicates(max_distance)` macro pairs videos on that. A match is a lead, never
proof (docs/protocol.md rule 22). ffmpeg reads only the local file here: `-protocol_whitelist
file` keeps it from following any URL a crafted container names
(docs/design.md#measured-hostile-input).
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import imagehash
from PIL import Image

from collectors.errors import AnalysisError
from preservation.custody.log import CustodyLog
from preservation.records.capture import CaptureRecord
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import package_version

VIDEO_PREFIXES = ("video/",)
FRAME_SIDE = 64  # frames are scaled to 64x64 grey: phash samples 32x32, dhash 9x8
FORMAT = "bearwitness-video-frames/1"
_MAX_FRAMES = 3600
_TIMEOUT_S = 600


@dataclass(frozen=True)
class FrameHash:
    frame_time_s: float
    phash: int
    dhash: int


@functools.lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    try:
        done = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    first = done.stdout.split("\n", 1)[0].split()
    return first[2] if len(first) > 2 and done.returncode == 0 else "missing"


def analyser_id(interval_s: float = 1.0) -> str:
    version = re.sub(r"[^A-Za-z0-9.]", ".", ffmpeg_version())[:20]  # "5.1.9-0+deb12u1"
    return (f"video-frames-{interval_s:g}s_ffmpeg-{version}"
            f"_imagehash-{package_version('imagehash')}")


def frame_hashes(path: Path, interval_s: float = 1.0) -> list[FrameHash]:
    """Hash one frame every `interval_s` seconds of the video at `path` (read only)."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file",
               "-i", f"file:{path}", "-an", "-sn",
               "-vf", f"fps=1/{interval_s:g},scale={FRAME_SIDE}:{FRAME_SIDE}:flags=area,"
                      "format=gray",
               "-frames:v", str(_MAX_FRAMES), "-f", "rawvideo", "pipe:1"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_S)
    except FileNotFoundError as exc:
        raise AnalysisError("ffmpeg is not installed (Debian package `ffmpeg`)") from exc
    except subprocess.TimeoutExpired as exc:
        raise AnalysisError(f"ffmpeg took longer than {_TIMEOUT_S} s on {path.name}") from exc
    if done.returncode != 0:
        raise AnalysisError(f"ffmpeg could not decode {path.name}: "
                            f"{done.stderr.decode('utf-8', 'replace').strip()[:500]}")
    size = FRAME_SIDE * FRAME_SIDE
    frames = []
    for index in range(len(done.stdout) // size):
        image = Image.frombytes("L", (FRAME_SIDE, FRAME_SIDE),
                                done.stdout[index * size:(index + 1) * size])
        frames.append(FrameHash(round(index * interval_s, 3), _unsigned(imagehash.phash(image)),
                                _unsigned(imagehash.dhash(image))))
    if not frames:
        raise AnalysisError(f"ffmpeg found no video frames in {path.name}")
    return frames


def _unsigned(value: imagehash.ImageHash) -> int:
    return int(str(value), 16)


def analyse_video_frames(store: EvidenceStore, records: Iterable[CaptureRecord],
                         custody: CustodyLog, interval_s: float = 1.0) -> int:
    """Frame hashes of every video working copy not yet analysed; returns how many."""
    analyser = analyser_id(interval_s)
    done: set[str] = set()
    for record in records:
        for item in record.items:
            sha256 = item.sha256
            if not item.working_copy or sha256 in done \
                    or not (item.mime_type or "").startswith(VIDEO_PREFIXES):
                continue
            done.add(sha256)
            key = layout.analysis_key_for(item.working_copy, sha256, analyser)
            if store.exists(key):
                continue
            document: dict[str, Any] = {"format": FORMAT, "analyser": analyser,
                                        "sha256": sha256, "interval_s": interval_s,
                                        "frame_side": FRAME_SIDE,
                                        "analysed_at": datetime.now(UTC).isoformat()}
            try:
                frames = frame_hashes(store.local_file(item.working_copy), interval_s)
                document["frames"] = [{"t": f.frame_time_s, "phash": str(f.phash),
                                       "dhash": str(f.dhash)} for f in frames]
            except AnalysisError as exc:
                document["error"] = str(exc)
            store.put_document(key, document)
            custody.record("derive", sha256, object_path=key,
                           sha256=f"sha256:{store.sha256(key)}",
                           purpose="technical analysis: video frame perceptual hashes",
                           details={"analyser": analyser, "input": f"sha256:{sha256}",
                                    "error": document.get("error")})
    return len(done)


def video_frame_rows(item_id: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for frame in document.get("frames") or []:
        for algorithm in ("phash", "dhash"):
            rows.append({"item_id": item_id, "sha256": document["sha256"],
                         "frame_time_s": float(frame["t"]), "algorithm": algorithm,
                         "hash": int(frame[algorithm])})
    return rows


def load_video_document(store: EvidenceStore, sha256: str,
                        working_copy: str | None = None) -> dict[str, Any] | None:
    found = sorted((name, document) for name, document
                   in store.analyses(sha256, working_copy).items()
                   if name.startswith("video-frames-"))
    return found[-1][1] if found else None
