"""The catalog's tables: one Arrow schema each. Every column is documented in docs/catalog.md.

Parts on disk (catalog/storage/) are Parquet files with exactly these schemas plus one hidden
column, `_segment`: which store document group each row came from, so that a part can be
rewritten without one segment's rows. The views in catalog.duckdb read them. Add a column by
appending it here (old parts are read with union_by_name, so the new column is NULL there until
a rebuild); add a table by adding it here and to docs/catalog.md, and its rows to the landing
that derives them (catalog/landing.py).
"""

from __future__ import annotations

import pyarrow as pa

from catalog.segments import SEGMENT_COLUMN

UTC_TIME = pa.timestamp("us", tz="UTC")

TABLES: dict[str, pa.Schema] = {
    "cases": pa.schema([
        ("case_id", pa.string()), ("title", pa.string()), ("created_at", UTC_TIME),
        ("created_by", pa.string()), ("description", pa.string())]),
    "captures": pa.schema([
        ("capture_id", pa.string()), ("case_id", pa.string()), ("requested_url", pa.string()),
        ("final_url", pa.string()), ("mode", pa.string()), ("status", pa.string()),
        ("error", pa.string()), ("started_at", UTC_TIME), ("ended_at", UTC_TIME),
        ("collector", pa.string()), ("warc_path", pa.string()), ("warc_sha256", pa.string()),
        ("warc_sha512", pa.string()), ("warc_size", pa.int64()), ("http_status", pa.int32()),
        ("redirects", pa.list_(pa.string())), ("user_agent", pa.string()),
        ("route", pa.string()), ("run_id", pa.string()), ("tool_versions", pa.string()),
        ("failure", pa.string()), ("retries", pa.string()),
        ("title", pa.string()), ("published_at", UTC_TIME), ("claims", pa.string()),
        ("discovered_via", pa.string()), ("below_court_minimum", pa.bool_()),
        ("contextual", pa.string()), ("persona", pa.string()), ("persona_account", pa.string())]),
    "items": pa.schema([
        ("item_id", pa.string()), ("capture_id", pa.string()), ("case_id", pa.string()),
        ("url", pa.string()), ("role", pa.string()), ("http_status", pa.int32()),
        ("mime_type", pa.string()), ("size_bytes", pa.int64()), ("sha256", pa.string()),
        ("truncated", pa.bool_()), ("truncation", pa.string()), ("captured_at", UTC_TIME),
        ("warc_path", pa.string()), ("warc_record_id", pa.string()),
        ("warc_offset", pa.int64()), ("working_copy", pa.string()),
        ("malformed", pa.string())]),
    # A platform's posts and accounts as each capture read them (catalog/rows/post_rows.py).
    "posts": pa.schema([
        ("capture_id", pa.string()), ("case_id", pa.string()), ("platform", pa.string()),
        ("post_id", pa.string()), ("url", pa.string()), ("requested_url", pa.string()),
        ("captured_at", UTC_TIME), ("state", pa.string()), ("state_text", pa.string()),
        ("account_id", pa.string()), ("account_handle", pa.string()),
        ("account_name", pa.string()), ("posted_at", UTC_TIME), ("posted_at_text", pa.string()),
        ("text", pa.string()), ("title", pa.string()), ("language", pa.string()),
        ("reply_to", pa.string()), ("quote_of", pa.string()), ("forwarded_from", pa.string()),
        ("views", pa.int64()), ("likes", pa.int64()), ("shares", pa.int64()),
        ("comments", pa.int64()), ("quotes", pa.int64()), ("media_count", pa.int32()),
        ("reader", pa.string()), ("reader_version", pa.string()),
        ("source_records", pa.list_(pa.string())), ("extras", pa.string())]),
    "post_media": pa.schema([
        ("capture_id", pa.string()), ("case_id", pa.string()), ("platform", pa.string()),
        ("post_id", pa.string()), ("position", pa.int32()), ("url", pa.string()),
        ("kind", pa.string()), ("item_id", pa.string()), ("sha256", pa.string()),
        ("warc_record_id", pa.string())]),
    "accounts": pa.schema([
        ("capture_id", pa.string()), ("case_id", pa.string()), ("platform", pa.string()),
        ("account_id", pa.string()), ("handle", pa.string()), ("display_name", pa.string()),
        ("url", pa.string()), ("followers", pa.int64()), ("state", pa.string()),
        ("state_text", pa.string()), ("captured_at", UTC_TIME)]),
    "media_metadata": pa.schema([
        ("item_id", pa.string()), ("sha256", pa.string()), ("taken_at", pa.timestamp("us")),
        ("taken_at_offset", pa.string()), ("gps_lat", pa.float64()), ("gps_lon", pa.float64()),
        ("camera_make", pa.string()), ("camera_model", pa.string()), ("software", pa.string()),
        ("width", pa.int32()), ("height", pa.int32()), ("duration_s", pa.float64())]),
    "metadata": pa.schema([
        ("item_id", pa.string()), ("sha256", pa.string()), ("tool", pa.string()),
        ("tool_version", pa.string()), ("key", pa.string()), ("value", pa.string())]),
    "perceptual_hashes": pa.schema([
        ("item_id", pa.string()), ("sha256", pa.string()), ("algorithm", pa.string()),
        ("hash", pa.uint64()), ("decode", pa.string())]),
    "video_frame_hashes": pa.schema([
        ("item_id", pa.string()), ("sha256", pa.string()), ("frame_time_s", pa.float64()),
        ("algorithm", pa.string()), ("hash", pa.uint64())]),
    "analysis_errors": pa.schema([
        ("item_id", pa.string()), ("sha256", pa.string()), ("tool", pa.string()),
        ("error", pa.string())]),
    "custody_events": pa.schema([
        ("event_id", pa.string()), ("segment", pa.string()), ("seq", pa.int64()),
        ("at", UTC_TIME), ("actor", pa.string()), ("action", pa.string()),
        ("object_id", pa.string()), ("object_path", pa.string()), ("case_id", pa.string()),
        ("sha256", pa.string()), ("prev_hash", pa.string()), ("event_hash", pa.string()),
        ("purpose", pa.string()), ("tool", pa.string()), ("tool_version", pa.string()),
        ("details", pa.string())]),
    # Verification (docs/protocol.md rules 2, 3, 21-23): derived from store/verification, policies,
    # inquiries and assessments.
    "verification_steps": pa.schema([
        ("step_id", pa.string()), ("item_id", pa.string()), ("case_id", pa.string()),
        ("capture_id", pa.string()), ("step_type", pa.string()), ("analyst", pa.string()),
        ("automated", pa.bool_()), ("at", UTC_TIME), ("result", pa.string()),
        ("confidence", pa.string()), ("supersedes", pa.string()), ("reason", pa.string()),
        ("superseded_by", pa.string()), ("reviewer", pa.string()), ("fields", pa.string())]),
    "geolocations": pa.schema([
        ("step_id", pa.string()), ("item_id", pa.string()), ("case_id", pa.string()),
        ("analyst", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
        ("uncertainty_m", pa.float64()), ("claimed_place", pa.string()), ("current", pa.bool_())]),
    "chronolocations": pa.schema([
        ("step_id", pa.string()), ("item_id", pa.string()), ("case_id", pa.string()),
        ("analyst", pa.string()), ("window_start", UTC_TIME), ("window_end", UTC_TIME),
        ("claimed_time", pa.string()), ("current", pa.bool_())]),
    "automated_findings": pa.schema([
        ("item_id", pa.string()), ("step_id", pa.string()), ("case_id", pa.string()),
        ("check", pa.string()), ("outcome", pa.string()), ("flagged", pa.bool_()),
        ("detail", pa.string()), ("data", pa.string())]),
    "item_status": pa.schema([
        ("item_id", pa.string()), ("case_id", pa.string()), ("capture_id", pa.string()),
        ("status", pa.string()), ("missing", pa.list_(pa.string())), ("policy_id", pa.string()),
        ("explanation", pa.list_(pa.string()))]),
    "inquiries": pa.schema([
        ("inquiry_id", pa.string()), ("case_id", pa.string()), ("at", UTC_TIME),
        ("investigator", pa.string()), ("persona", pa.string()), ("platform", pa.string()),
        ("query", pa.string()), ("note", pa.string())]),
    "assessments": pa.schema([
        ("assessment_id", pa.string()), ("case_id", pa.string()), ("at", UTC_TIME),
        ("url", pa.string()), ("decision", pa.string()), ("reason", pa.string()),
        ("assessor", pa.string()), ("discovered_via", pa.string())]),
    "case_documents": pa.schema([
        ("document_id", pa.string()), ("case_id", pa.string()), ("kind", pa.string()),
        ("name", pa.string()), ("path", pa.string()), ("sha256", pa.string()),
        ("size_bytes", pa.int64()), ("added_by", pa.string()), ("added_at", UTC_TIME)]),
    # Full-text search (catalog/fulltext/): the words of each capture, from the store.
    "texts": pa.schema([
        ("item_id", pa.string()), ("capture_id", pa.string()), ("case_id", pa.string()),
        ("url", pa.string()), ("captured_at", UTC_TIME), ("kind", pa.string()),
        ("text", pa.string())]),
}

# How rows are ordered inside a compacted part: Parquet keeps min/max per row group, so a
# filter on the leading column skips most of a large file.
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "cases": ("case_id",),
    "captures": ("case_id", "started_at"),
    "items": ("case_id", "captured_at"),
    "media_metadata": ("gps_lat", "gps_lon"),
    "metadata": ("key", "value"),
    "perceptual_hashes": ("algorithm", "hash"),
    "video_frame_hashes": ("algorithm", "hash"),
    "analysis_errors": ("item_id",),
    "custody_events": ("segment", "seq"),
    "verification_steps": ("case_id", "item_id"),
    "geolocations": ("lat", "lon"),
    "chronolocations": ("window_start",),
    "automated_findings": ("check", "outcome"),
    "item_status": ("status", "case_id"),
    "inquiries": ("case_id", "at"),
    "assessments": ("case_id", "at"),
    "case_documents": ("case_id",),
    "texts": ("case_id", "captured_at"),
}


def part_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table's file in a part: the table's columns and `_segment`."""
    return TABLES[table].append(pa.field(SEGMENT_COLUMN, pa.string()))
