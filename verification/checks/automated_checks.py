"""Automated technical analysis of every captured image item, recorded as machine steps.

After metadata extraction, each image item of a capture gets one `technical_analysis` step whose
analyst is the pipeline (`bearwitness/<version>`) and whose `checks` hold one finding per check:

    capture_time_vs_publication  EXIF capture time against the page's claimed publication time
    editing_software             an image editor named in the metadata (e.g. Photoshop)
    metadata_stripped            a JPEG without any EXIF block
    gps                          a GPS position in the metadata
    near_duplicates              perceptually near images in the same case, the earliest-captured
                                 instance named

Findings are leads for an analyst, never conclusions: the step's result is always
`inconclusive` with confidence `low`, and automated steps never count towards an item's status.
The checks run per item, not per file: the same photo on two pages is checked against each
page's own claims.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from collectors.page_claims import claimed_date, claimed_time
from preservation.custody.log import CustodyLog
from preservation.records.capture import CapturedItem, CaptureRecord
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import BEARWITNESS_VERSION, package_version
from verification.media.media_analysis import ANALYSABLE_PREFIXES, analyser_id
from verification.steps.recording import PIPELINE_ANALYST, ItemResolver, record_step

NEAR_DUPLICATE_MAX_BITS = 10  # on both phash and dhash (imagehash, 64 bits)
PAIRWISE_IMAGES = 256  # a run's own images compared pair by pair up to this many (_in_run)
LONG_BEFORE_PUBLICATION = timedelta(days=7)
# A clock reading without a zone is somewhere between UTC-12 and UTC+14.
_EARLIEST_ZONE, _LATEST_ZONE = timedelta(hours=14), timedelta(hours=12)
_EDITORS = re.compile(
    r"photoshop|lightroom|gimp|affinity|pixelmator|snapseed|picsart|canva|capture one|"
    r"paint\.net|darktable|rawtherapee|acdsee|luminar|facetune|photoscape|ps express|"
    r"photo ?director|fotor|meitu|remini", re.IGNORECASE)
_EDITOR_TAGS = ("EXIF:Software", "XMP:CreatorTool", "XMP:HistorySoftwareAgent",
                "QuickTime:Software", "PNG:Software", "IPTC:OriginatingProgram")


@dataclass(frozen=True)
class KnownImage:
    """An image item with its perceptual hashes, as the catalog (or this run) knows it."""

    item_id: str
    capture_id: str
    url: str
    sha256: str
    captured_at: str  # ISO 8601 UTC
    phash: int
    dhash: int


class ImageIndex(Protocol):
    def near(self, case_id: str, probes: dict[str, tuple[int, int]],
             max_bits: int) -> dict[str, list[KnownImage]]:
        """For each probe key → (phash, dhash), the known images of `case_id` within
        `max_bits` on both hashes."""

    def near_each_other(self, probes: dict[str, tuple[int, int]],
                        max_bits: int) -> dict[str, set[str]]:
        """For each probe key, the other probes within `max_bits` on both hashes."""


@dataclass(frozen=True)
class Finding:
    check: str
    outcome: str
    flagged: bool
    detail: str
    data: dict[str, Any]


def run_automated_checks(store: EvidenceStore, records: Iterable[CaptureRecord],
                         custody: CustodyLog, index: ImageIndex | None = None) -> int:
    """One machine technical_analysis step per analysed image item of `records` (capture
    records). `index` gives the case's images already catalogued. Returns steps recorded."""
    analyser = analyser_id()
    subjects = [(record, item, analysis) for record in records
                for item in record.items
                if (analysis := _analysis(store, item, analyser)) is not None]
    in_run = [_known(record, item, hashes) for record, item, analysis in subjects
              if (hashes := _hashes(analysis))]
    catalogued = _catalogued(index, subjects)
    in_run_near = _in_run(index, in_run)
    by_id = {k.item_id: k for k in in_run}
    count = 0
    for record, item, analysis in subjects:
        neighbours = {k.item_id: k for k in catalogued.get(item.item_id, [])}
        neighbours |= {other: by_id[other] for other in in_run_near.get(item.item_id, ())}
        neighbours.pop(item.item_id, None)
        findings = item_findings(record, item, analysis, list(neighbours.values()))
        fields = step_fields(item, analysis, findings)
        record_step(store, custody, item.item_id, "technical_analysis", PIPELINE_ANALYST,
                    fields, resolve=_this_item(record, item), automated=True)
        count += 1
    return count


def item_findings(record: CaptureRecord, item: CapturedItem, analysis: dict[str, Any],
                  neighbours: list[KnownImage]) -> list[Finding]:
    fields = analysis.get("fields") or {}
    metadata = analysis.get("metadata") or {}
    return [capture_time_check(fields, record.claims or {}),
            editing_software_check(metadata),
            metadata_stripped_check(metadata, item.mime_type),
            gps_check(fields),
            near_duplicates_check(item, neighbours)]


def capture_time_check(fields: dict[str, Any], claims: dict[str, Any]) -> Finding:
    name = "capture_time_vs_publication"
    taken = _taken_window(fields)
    claim = claims.get("published_time")
    published = _published_window(claim)
    data = {"taken_at": fields.get("taken_at"), "taken_at_offset": fields.get("taken_at_offset"),
            "published_time_claimed": claim,
            "published_time_source": (claims.get("sources") or {}).get("published_time")}
    if taken is None:
        return Finding(name, "no_capture_time", False,
                       "the embedded metadata holds no capture time", data)
    if published is None:
        why = "claims no publication time" if claim is None else \
            f"claims a publication time that names no date ({claim!r})"
        return Finding(name, "no_claimed_publication", False, f"the page {why}", data)
    zone = f" {fields['taken_at_offset']}" if fields.get("taken_at_offset") else \
        " (no time zone in the metadata: read as anywhere from UTC-12 to UTC+14)"
    said = f"EXIF capture time {fields['taken_at']}{zone}; the page claims publication {claim}"
    if taken[0] > published[1]:
        return Finding(name, "after_publication", True,
                       f"photo dated after the page's publication: {said}", data)
    gap = published[0] - taken[1]
    if gap > LONG_BEFORE_PUBLICATION:
        data["days_before"] = gap.days
        return Finding(name, "long_before_publication", True,
                       f"photo dated at least {gap.days} days before the page's publication "
                       f"(threshold {LONG_BEFORE_PUBLICATION.days} days): {said}", data)
    return Finding(name, "consistent", False, f"no conflict: {said}", data)


def editing_software_check(metadata: dict[str, Any]) -> Finding:
    name = "editing_software"
    named = {tag: str(metadata[tag]) for tag in _EDITOR_TAGS if metadata.get(tag)}
    editors = {tag: value for tag, value in named.items() if _EDITORS.search(value)}
    traces = sorted(k for k in metadata if k.startswith("Photoshop:"))
    if editors or traces:
        said = "; ".join(f"{tag} = {value}" for tag, value in editors.items())
        if traces:
            said = "; ".join(filter(None, [said, f"{len(traces)} Photoshop tags"]))
        return Finding(name, "editor", True,
                       f"image editing software in the metadata: {said}",
                       {"tags": editors, "photoshop_tags": traces[:20]})
    if named:
        said = "; ".join(f"{tag} = {value}" for tag, value in named.items())
        return Finding(name, "other_software", False,
                       f"software named, not a known image editor: {said}", {"tags": named})
    return Finding(name, "none", False, "no software named in the metadata", {})


def metadata_stripped_check(metadata: dict[str, Any], mime_type: str | None) -> Finding:
    name = "metadata_stripped"
    file_type = metadata.get("File:FileType") or mime_type
    if str(file_type).upper() not in ("JPEG", "IMAGE/JPEG"):
        return Finding(name, "not_applicable", False,
                       f"not a JPEG ({file_type}): cameras' EXIF is expected in JPEGs only",
                       {"file_type": file_type})
    exif = sorted(k for k in metadata if k.startswith("EXIF:"))
    if not exif:
        return Finding(name, "stripped", True,
                       "a JPEG with no EXIF block: cameras write one; platforms and messengers "
                       "often strip it on re-posting", {"file_type": file_type})
    return Finding(name, "present", False, f"EXIF present ({len(exif)} tags)",
                   {"file_type": file_type, "exif_tags": len(exif)})


def gps_check(fields: dict[str, Any]) -> Finding:
    lat, lon = fields.get("gps_lat"), fields.get("gps_lon")
    if lat is None or lon is None:
        return Finding("gps", "absent", False, "no GPS position in the metadata", {})
    return Finding("gps", "present", True,
                   f"GPS position in the metadata: {lat:.6f}, {lon:.6f} (a lead for "
                   "geolocation, which metadata alone does not establish)",
                   {"lat": lat, "lon": lon})


def near_duplicates_check(item: CapturedItem, neighbours: list[KnownImage]) -> Finding:
    name = "near_duplicates"
    # The same bytes at the same URL (a page's logo on every page, a re-capture) are the same
    # resource again, not a copy: counted, but they are no provenance lead.
    same = [k for k in neighbours if k.url == item.url and k.sha256 == item.sha256]
    same_ids = {k.item_id for k in same}  # by id: dataclass equality here was O(n) per test
    neighbours = [k for k in neighbours if k.item_id not in same_ids]
    rule = {"algorithm": "phash and dhash (imagehash, 64 bits)",
            "max_bits": NEAR_DUPLICATE_MAX_BITS, "same_resource_captures": len(same)}
    if not neighbours:
        return Finding(name, "none", False, "no perceptual near-duplicate at another URL in "
                       f"the case so far ({len(same)} other capture(s) of this same resource)",
                       rule)
    self_known = (utc_text(item.captured_at), item.item_id)
    earliest = min(neighbours, key=lambda k: (k.captured_at, k.item_id))
    listed = [{"item_id": k.item_id, "url": k.url, "sha256": k.sha256,
               "captured_at": k.captured_at, "exact": k.sha256 == item.sha256}
              for k in sorted(neighbours, key=lambda k: (k.captured_at, k.item_id))]
    data = rule | {"neighbours": listed}
    lead = "a provenance lead, never proof of integrity"
    if self_known <= (earliest.captured_at, earliest.item_id):
        data["earliest"] = {"item_id": item.item_id, "url": item.url,
                            "captured_at": item.captured_at, "sha256": item.sha256}
        return Finding(name, "found", True,
                       f"{len(neighbours)} near-duplicate(s) in the case; this item is the "
                       f"earliest-captured instance ({lead})", data)
    data["earliest"] = {"item_id": earliest.item_id, "url": earliest.url,
                        "captured_at": earliest.captured_at, "sha256": earliest.sha256}
    return Finding(name, "found", True,
                   f"{len(neighbours)} near-duplicate(s) in the case; earliest-captured "
                   f"instance: item {earliest.item_id} ({earliest.url}), captured "
                   f"{earliest.captured_at} ({lead})", data)


def step_fields(item: CapturedItem, analysis: dict[str, Any],
                findings: list[Finding]) -> dict[str, Any]:
    """The machine step's fields (technical_analysis)."""
    flagged = [f for f in findings if f.flagged]
    metadata = analysis.get("metadata") or {}
    stripped = next(f for f in findings if f.check == "metadata_stripped")
    near = next(f for f in findings if f.check == "near_duplicates")
    return {
        "method": "Automated checks by the pipeline on the analysis of the item's working copy "
                  "(sha256 verified before and after): " + ", ".join(f.check for f in findings)
                  + ". Leads for an analyst, never conclusions.",
        "findings": " | ".join(f"{f.check}: {f.detail}" for f in findings),
        "result": "inconclusive", "confidence": "low",
        "tools": [{"name": "bearwitness", "version": BEARWITNESS_VERSION},
                  {"name": "exiftool", "version": analysis.get("exiftool_version") or "unknown"},
                  {"name": "imagehash", "version": package_version("imagehash")}],
        "inputs": [{"item_id": item.item_id, "sha256": item.sha256}],
        "file_sha256": item.sha256,
        "container": metadata.get("File:FileType"),
        "metadata_tool": {"name": "exiftool",
                          "version": analysis.get("exiftool_version") or "unknown"},
        "anomalies": [f"{f.check}: {f.detail}" for f in flagged],
        "metadata_stripped": {"stripped": True, "present": False}.get(stripped.outcome),
        "neighbours": near.data.get("neighbours", []),
        "checks": [asdict(f) for f in findings],
    }


def _analysis(store: EvidenceStore, item: CapturedItem, analyser: str
              ) -> dict[str, Any] | None:
    mime = item.mime_type or ""
    if not item.working_copy or not mime.startswith(ANALYSABLE_PREFIXES):
        return None
    return store.analysis(item.sha256, analyser, item.working_copy)


def _hashes(analysis: dict[str, Any]) -> tuple[int, int] | None:
    hashes = analysis.get("hashes") or {}
    if "phash" not in hashes or "dhash" not in hashes:
        return None
    return int(hashes["phash"]), int(hashes["dhash"])


def _this_item(record: CaptureRecord, item: CapturedItem) -> ItemResolver:
    """The item in hand, for record_step: no store lookup."""
    return lambda _item_id: (record, item)


def _near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return all((x ^ y).bit_count() <= NEAR_DUPLICATE_MAX_BITS for x, y in zip(a, b, strict=True))


def _known(record: CaptureRecord, item: CapturedItem, hashes: tuple[int, int]) -> KnownImage:
    phash, dhash = hashes
    return KnownImage(item.item_id, record.capture_id, item.url, item.sha256,
                      utc_text(item.captured_at), phash, dhash)


def _in_run(index: ImageIndex | None, in_run: list[KnownImage]) -> dict[str, set[str]]:
    """Each of the run's images → the run's other images near it: by comparing every pair
    up to PAIRWISE_IMAGES (exact, and microseconds, where the index's exact search costs an
    ad-hoc capture a catalog connection: ~0.7 s), through the index beyond."""
    if index is not None and len(in_run) > PAIRWISE_IMAGES:
        return index.near_each_other({k.item_id: (k.phash, k.dhash) for k in in_run},
                                     NEAR_DUPLICATE_MAX_BITS)
    return {k.item_id: {o.item_id for o in in_run
                        if o.item_id != k.item_id and _near((k.phash, k.dhash),
                                                            (o.phash, o.dhash))}
            for k in in_run}


def _catalogued(index: ImageIndex | None,
                subjects: list[tuple[CaptureRecord, CapturedItem, dict[str, Any]]]
                ) -> dict[str, list[KnownImage]]:
    if index is None:
        return {}
    found: dict[str, list[KnownImage]] = {}
    by_case: dict[str, dict[str, tuple[int, int]]] = {}
    for record, item, analysis in subjects:
        hashes = _hashes(analysis)
        if hashes:
            by_case.setdefault(record.case_id, {})[item.item_id] = hashes
    for case_id, probes in by_case.items():
        found |= index.near(case_id, probes, NEAR_DUPLICATE_MAX_BITS)
    return found


def utc_text(value: str) -> str:
    """An ISO 8601 time as UTC text, so times from the store and the catalog compare as text."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat(timespec="microseconds")


def _taken_window(fields: dict[str, Any]) -> tuple[datetime, datetime] | None:
    text = fields.get("taken_at")
    if not text:
        return None
    clock = datetime.fromisoformat(text).replace(tzinfo=None)
    offset = fields.get("taken_at_offset")
    if offset:
        moment = datetime.fromisoformat(f"{clock.isoformat()}{offset}").astimezone(UTC)
        return moment, moment
    clock = clock.replace(tzinfo=UTC)
    return clock - _EARLIEST_ZONE, clock + _LATEST_ZONE


def _published_window(claim: Any) -> tuple[datetime, datetime] | None:
    moment = claimed_time(claim)
    if moment is not None:
        return moment, moment
    day = claimed_date(claim)
    if day is None:
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start - _EARLIEST_ZONE, start + timedelta(days=1) + _LATEST_ZONE
