"""Synthetic catalog segments with the shapes production lands: captures of ~20 items, images
with EXIF fields, GPS positions and perceptual hashes, video frame hashes, the automated checks'
steps and findings, analysts' steps, item status, and the custody events of each run. Used by
the catalog's storage tests and by benchmarks/bench_catalog.py; deterministic for a seed.

The rows are built the way catalog/rows/ builds them from store documents (same tables, same
columns, same types), without a store behind them: what is measured and tested here is the
catalog's storage and queries, not the capture.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.storage.parts import Rows

CAMERAS = [("Apple", "iPhone 15"), ("Samsung", "SM-S918B"), ("Google", "Pixel 8"),
           ("Canon", "EOS R6"), ("Nikon", "Z 6II"), ("Xiaomi", "23049PCD8G"),
           ("Huawei", "ELS-NX9"), ("Sony", "ILCE-7M4")]
SOFTWARE = [None, None, None, "Adobe Photoshop 25.0", "GIMP 2.10", "Snapseed", "iOS 17.1"]
CASES = ["syria-2026", "ukraine-2026", "myanmar-2026", "sudan-2026", "yemen-2026"]
STATUSES = ["unverified"] * 16 + ["in_review"] * 2 + ["verified", "disputed"]
CHECKS = [("capture_time_vs_publication", "consistent", False),
          ("editing_software", "none", False), ("metadata_stripped", "present", False),
          ("gps", "absent", False), ("near_duplicates", "none", False)]
# Page words in the scripts the catalog is searched in (a few of each, repeated at random).
WORDS = ("witness", "shelling", "hospital", "convoy", "Pixel", "checkpoint", "école", "détruite",
         "témoin", "مدرسة", "مستشفى", "قصف", "شاهد", "лікарня", "обстріл", "свідок", "школа",
         "ဆေးရုံ", "the", "and", "of", "near", "at", "2026")
EXTRA_TAGS = [f"EXIF:Tag{n:02d}" for n in range(14)]


@dataclass
class Generator:
    """Captures in time order from `start`, one every `every` on average."""

    seed: int = 1
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    every: timedelta = timedelta(minutes=4)
    items_per_capture: int = 20
    images_per_capture: int = 12
    urls: int = 2000  # distinct sources: a watch list recaptures each many times
    clock: datetime = field(init=False)
    rng: random.Random = field(init=False)
    captures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.clock = self.start

    def capture(self) -> dict[str, Rows]:
        """The evidence and verification segments of the next capture."""
        rng = self.rng
        self.captures += 1
        self.clock += timedelta(seconds=rng.uniform(0, 2 * self.every.total_seconds()))
        at = self.clock
        capture_id = f"cap-{at.strftime('%Y%m%dT%H%M%S')}Z-{rng.getrandbits(32):08x}"
        case_id = CASES[rng.randrange(len(CASES))]
        source = rng.randrange(self.urls)
        page_url = f"https://site{source % 97}.example/{source}/page.html"
        evidence: Rows = {t: [] for t in ("captures", "items", "media_metadata", "metadata",
                                          "perceptual_hashes", "video_frame_hashes", "texts")}
        verification: Rows = {t: [] for t in ("verification_steps", "automated_findings",
                                              "item_status", "geolocations")}
        evidence["captures"].append({
            "capture_id": capture_id, "case_id": case_id, "requested_url": page_url,
            "final_url": page_url, "mode": "static", "status": "complete", "error": None,
            "started_at": at, "ended_at": at + timedelta(seconds=3), "collector": "watch",
            "warc_path": f"warcs/{case_id}/{capture_id}.warc.gz",
            "warc_sha256": _hex(rng), "warc_sha512": _hex(rng) + _hex(rng),
            "warc_size": rng.randrange(10**5, 10**8), "http_status": 200,
            "redirects": [page_url], "user_agent": "bearwitness", "route": "direct",
            "run_id": f"run-{at.strftime('%Y%m%d')}", "tool_versions": "{}",
            "failure": None, "retries": "[]", "title": f"Report {source}",
            "published_at": at - timedelta(hours=rng.randrange(1, 400)), "claims": None,
            "discovered_via": None, "below_court_minimum": True, "contextual": "{}"})
        for number in range(self.items_per_capture):
            item_id = str(uuid.UUID(int=rng.getrandbits(128)))
            image = 0 < number <= self.images_per_capture
            video = number == self.items_per_capture - 1 and rng.random() < 0.3
            mime = "text/html" if number == 0 else "image/jpeg" if image else \
                "video/mp4" if video else "text/css"
            sha256 = _hex(rng)
            url = page_url if number == 0 else \
                f"https://site{source % 97}.example/m/{source}-{number}"
            evidence["items"].append({
                "item_id": item_id, "capture_id": capture_id, "case_id": case_id, "url": url,
                "role": "page" if number == 0 else "media" if video else "resource",
                "http_status": 200, "mime_type": mime, "size_bytes": rng.randrange(1000, 10**7),
                "sha256": sha256, "truncated": False, "truncation": None,
                "captured_at": at + timedelta(milliseconds=number * 40),
                "warc_path": f"warcs/{case_id}/{capture_id}.warc.gz",
                "warc_record_id": f"<urn:uuid:{item_id}>", "warc_offset": number * 50_000,
                "working_copy": f"work/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"})
            status = STATUSES[rng.randrange(len(STATUSES))]
            verification["item_status"].append({
                "item_id": item_id, "case_id": case_id, "capture_id": capture_id,
                "status": status, "missing": [] if status == "verified" else ["source_analysis"],
                "policy_id": "default", "explanation": ["missing source_analysis"]})
            if image:
                self._image(evidence, verification, item_id, sha256, case_id, capture_id, at)
            if video:
                for second in range(10):
                    for algorithm in ("phash", "dhash"):
                        evidence["video_frame_hashes"].append({
                            "item_id": item_id, "sha256": sha256,
                            "frame_time_s": float(second), "algorithm": algorithm,
                            "hash": rng.getrandbits(64)})
        page = evidence["items"][0]
        words = " ".join(WORDS[rng.randrange(len(WORDS))] for _ in range(80))
        for kind, text in (("title", f"Report {source}"), ("page", words)):
            evidence["texts"].append({
                "item_id": page["item_id"], "capture_id": capture_id, "case_id": case_id,
                "url": page_url, "captured_at": page["captured_at"], "kind": kind,
                "text": text})
        return {capture_id: evidence, f"verification-{capture_id}": verification}

    def _image(self, evidence: Rows, verification: Rows, item_id: str, sha256: str,
               case_id: str, capture_id: str, at: datetime) -> None:
        rng = self.rng
        make, model = CAMERAS[rng.randrange(len(CAMERAS))]
        gps = rng.random() < 0.3
        lat = rng.uniform(32.0, 37.5) if gps else None
        lon = rng.uniform(35.5, 42.0) if gps else None
        software = SOFTWARE[rng.randrange(len(SOFTWARE))]
        taken = (at - timedelta(hours=rng.randrange(1, 2000))).replace(tzinfo=None)
        evidence["media_metadata"].append({
            "item_id": item_id, "sha256": sha256, "taken_at": taken, "taken_at_offset": None,
            "gps_lat": lat, "gps_lon": lon, "camera_make": make, "camera_model": model,
            "software": software, "width": 1920, "height": 1080, "duration_s": None})
        tags: dict[str, Any] = {"EXIF:Make": make, "EXIF:Model": model,
                                "EXIF:DateTimeOriginal": taken.strftime("%Y:%m:%d %H:%M:%S"),
                                "File:FileType": "JPEG", "File:ImageWidth": 1920,
                                "File:ImageHeight": 1080}
        if software:
            tags["EXIF:Software"] = software
        if gps:
            tags["Composite:GPSLatitude"], tags["Composite:GPSLongitude"] = lat, lon
        for tag in EXTRA_TAGS:
            tags[tag] = rng.randrange(1000)
        evidence["metadata"] += [{"item_id": item_id, "sha256": sha256, "tool": "exiftool",
                                  "tool_version": "12.57", "key": key,
                                  "value": value if isinstance(value, str) else json.dumps(value)}
                                 for key, value in sorted(tags.items())]
        for algorithm in ("phash", "dhash"):
            evidence["perceptual_hashes"].append({
                "item_id": item_id, "sha256": sha256, "algorithm": algorithm,
                "hash": rng.getrandbits(64), "decode": "draft 1/8"})
        step_id = f"step-{at.strftime('%Y%m%dT%H%M%S')}Z-{rng.getrandbits(32):08x}"
        verification["verification_steps"].append({
            "step_id": step_id, "item_id": item_id, "case_id": case_id, "capture_id": capture_id,
            "step_type": "technical_analysis", "analyst": "bearwitness/0.1.0", "automated": True,
            "at": at + timedelta(seconds=5), "result": "inconclusive", "confidence": "low",
            "supersedes": None, "reason": None, "superseded_by": None, "reviewer": None,
            "fields": "{}"})
        for check, outcome, flagged in CHECKS:
            verification["automated_findings"].append({
                "item_id": item_id, "step_id": step_id, "case_id": case_id, "check": check,
                "outcome": "present" if check == "gps" and lat is not None else outcome,
                "flagged": flagged or (check == "gps" and lat is not None),
                "detail": f"{check}: {outcome}", "data": "{}"})

    def custody(self, run: str, captures: int) -> dict[str, Rows]:
        """The custody segment of a run that stored `captures` captures: ~25 events each."""
        rng = self.rng
        events = []
        previous = None
        for seq in range(captures * 25):
            event_hash = "sha256:" + _hex(rng)
            events.append({
                "event_id": str(uuid.UUID(int=rng.getrandbits(128))), "segment": run,
                "seq": seq, "at": self.clock, "actor": "watch",
                "action": "collect" if seq % 25 == 0 else "store",
                "object_id": _hex(rng), "object_path": f"work/sha256/{_hex(rng)[:8]}",
                "case_id": CASES[seq % len(CASES)], "sha256": "sha256:" + _hex(rng),
                "prev_hash": previous, "event_hash": event_hash, "purpose": "preservation",
                "tool": "bearwitness", "tool_version": "0.1.0", "details": "{}"})
            previous = event_hash
        return {f"custody-{run}": {"custody_events": events}}

    def run(self, captures: int) -> dict[str, Rows]:
        """What one capture run lands: its captures and its custody segment."""
        segments: dict[str, Rows] = {}
        for _ in range(captures):
            segments |= self.capture()
        run = f"run-{self.clock.strftime('%Y%m%dT%H%M%S')}-{self.rng.getrandbits(32):08x}"
        return segments | self.custody(run, captures)


def _hex(rng: random.Random) -> str:
    return hashlib.sha256(rng.getrandbits(64).to_bytes(8, "big")).hexdigest()
