"""The catalog as FollowTheMoney entities (line-delimited JSON), so captured material loads into
Aleph-style tools: every item as a HyperText, Image, Video, Audio or Document with its content
hash (SHA-256, as the note `sha256:<hex>`: FtM's `contentHash` property only accepts SHA-1),
source URL, retrieval time, MIME type and size; each page titled as captured;
each current geolocation as an Address (latitude, longitude, the claimed place) linked from its
item. Entity ids are derived from our own ids (`make_id`), so the same catalog gives the same
entities. Built with followthemoney's own model: a value its types refuse is left out, never
written.

Not yet: accounts and posts (the catalog has no posts table on this branch; yt-dlp's uploader is
only in `captures.contextual`), events."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from followthemoney import model
from followthemoney.proxy import EntityProxy
from followthemoney.util import make_entity_id

from catalog.storage.catalog_file import ensure_catalog
from collectors.errors import CatalogError, UsageError

NAMESPACE = "bearwitness"
_ITEMS = """
SELECT i.item_id, i.url, i.mime_type, i.size_bytes, i.sha256, i.captured_at, i.role,
       i.case_id, i.capture_id, c.title, i.truncated
FROM items i JOIN captures c USING (capture_id)
WHERE i.role NOT IN ('redirect', 'retried') AND (? IS NULL OR i.case_id = ?)
ORDER BY i.captured_at, i.item_id
"""
_PLACES = """
SELECT step_id, item_id, lat, lon, claimed_place, uncertainty_m FROM geolocations
WHERE current AND (? IS NULL OR case_id = ?) ORDER BY step_id
"""


def _schema_for(mime: str | None, role: str) -> str:
    mime = (mime or "").lower()
    if role == "dom" or "html" in mime:
        return "HyperText"
    for prefix, schema in (("image/", "Image"), ("video/", "Video"), ("audio/", "Audio")):
        if mime.startswith(prefix):
            return schema
    return "Document"


def entity_id(kind: str, our_id: str) -> str:
    return make_entity_id(NAMESPACE, kind, our_id) or ""


def entities(home: Path, case_id: str | None = None) -> Iterator[EntityProxy]:
    """Every entity of the catalog (or of one case), items first, then places."""
    path = ensure_catalog(home)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            places: dict[str, list[str]] = {}
            addresses = []
            for step_id, item_id, lat, lon, place, uncertainty in con.execute(
                    _PLACES, [case_id, case_id]).fetchall():
                address = model.make_entity("Address")
                address.id = entity_id("geolocation", step_id)
                address.add("full", place or f"{lat}, {lon}")
                address.add("latitude", lat)
                address.add("longitude", lon)
                if uncertainty is not None:
                    address.add("remarks", f"uncertainty {uncertainty} m (step {step_id})")
                addresses.append(address)
                places.setdefault(item_id, []).append(address.id or "")
            cursor = con.execute(_ITEMS, [case_id, case_id])
            while batch := cursor.fetchmany(10_000):
                for row in batch:
                    yield _item(row, places.get(row[0], []))
            yield from addresses
    except duckdb.Error as exc:
        raise CatalogError(f"FollowTheMoney export failed: {exc}") from exc


def _item(row: tuple[Any, ...], addresses: list[str]) -> EntityProxy:
    (item_id, url, mime, size, sha256, captured_at, role, case_id, capture_id, title,
     truncated) = row
    entity = model.make_entity(_schema_for(mime, role))
    entity.id = entity_id("item", item_id)
    # FollowTheMoney's contentHash is a SHA-1 by its type's definition (Aleph's content store),
    # which the catalog does not hold: the SHA-256 the evidence is checked by goes in a note.
    entity.add("notes", f"sha256:{sha256}")
    entity.add("sourceUrl", url)
    entity.add("fileName", url.rstrip("/").rsplit("/", 1)[-1][:200] or url)
    if captured_at is not None:
        entity.add("retrievedAt", captured_at.isoformat())
    entity.add("mimeType", mime)
    if size is not None:
        entity.add("fileSize", size)
    if role == "page" and title:
        entity.add("title", title)
    entity.add("crawler", "bearwitness")
    entity.add("notes", f"case {case_id}, capture {capture_id}, item {item_id} ({role}"
               + (", truncated" if truncated else "") + ")")
    for address in addresses:
        entity.add("addressEntity", address)
    return entity


def export_entities(home: Path, out: Path, case_id: str | None = None) -> int:
    """Write the entities to `out` (a new file, line-delimited JSON); returns their number."""
    if out.exists():
        raise UsageError(f"refusing to replace {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    count = 0
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            for entity in entities(home, case_id):
                handle.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True)
                             + "\n")
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, out)  # fails, never replaces, if it appeared meanwhile
    finally:
        temporary.unlink(missing_ok=True)
    return count
