"""The full-text index: tantivy, in `catalog/fulltext/` under the data home, derived from the
`texts` rows of the live snapshot and nothing else (delete it and it is made again).

Each indexed document carries its segment. The index's state file says which part each
indexed segment was read from; bringing the index up to date (`sync_index`, run before every
search and after a rebuild) compares that with the live snapshot: segments that left or moved
to another part (a re-landing, a compaction) are deleted by term and read again from their
current part, new ones added. One commit, then the state file (temporary name, then rename).
A process killed between the two leaves an old state file: the next sync deletes and adds
those segments again, so no text is lost or indexed twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import tantivy

from catalog.fulltext.words import folded_words
from catalog.segments import SEGMENT_COLUMN
from catalog.storage.layout import catalog_dir, parts_dir
from catalog.storage.parts import read_part_info
from catalog.storage.snapshots import live_manifest
from collectors.errors import CatalogError

STATE_FORMAT = "bearwitness-fulltext/1"
TABLE = "texts"
WRITER_HEAP_BYTES = 64 * 1024 * 1024
RETRIES = 3  # a part retired while it is read (a compaction switched): read the new one


def fulltext_dir(home: Path) -> Path:
    return catalog_dir(home) / "fulltext"


def _index_dir(home: Path) -> Path:
    return fulltext_dir(home) / "index"


def _state_path(home: Path) -> Path:
    return fulltext_dir(home) / "state.json"


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # `words`: the folded words (catalog/fulltext/words.py) joined by spaces, so tantivy's
    # whitespace tokenizer sees exactly them; `text`: the original, for snippets.
    builder.add_text_field("words", stored=False, tokenizer_name="whitespace")
    builder.add_bytes_field("text", stored=True, indexed=False)
    for name in ("segment", "case_id", "kind"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw")
    for name in ("item_id", "capture_id", "url", "captured_at"):
        builder.add_text_field(name, stored=True, index_option="basic", tokenizer_name="raw")
    return builder.build()


def open_index(home: Path) -> tantivy.Index:
    directory = _index_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        return tantivy.Index(schema(), path=str(directory), reuse=True)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"the full-text index at {directory} is unreadable ({exc}): "
                           "delete it and it is made again") from exc


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    path = fulltext_dir(home) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _read_state(home: Path) -> dict[str, str]:
    try:
        document = json.loads(_state_path(home).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    if document.get("format") != STATE_FORMAT:
        return {}
    return dict(document["segments"])


def _write_state(home: Path, segments: dict[str, str]) -> None:
    path = _state_path(home)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"format": STATE_FORMAT, "segments": segments}))
    os.replace(temporary, path)


def _live_segments(home: Path) -> dict[str, str]:
    """segment → the live part holding its texts."""
    found: dict[str, str] = {}
    for entry in live_manifest(home).parts:
        if entry.tables.get(TABLE):
            for segment in read_part_info(home, entry.part_id).segments:
                found[segment] = entry.part_id
    return found


def sync_index(home: Path) -> int:
    """Bring the index up to date with the live snapshot; returns the segments (re)indexed."""
    for attempt in range(RETRIES + 1):
        try:
            with _locked(home):
                return _sync(home)
        except (duckdb.IOException, FileNotFoundError):
            if attempt == RETRIES:
                raise
    raise AssertionError("unreachable")


def _sync(home: Path) -> int:
    indexed = _read_state(home)
    live = _live_segments(home)
    stale = [s for s, part in indexed.items() if live.get(s) != part]
    fresh = {s: part for s, part in live.items() if indexed.get(s) != part}
    if not stale and not fresh:
        return 0
    index = open_index(home)
    writer = index.writer(WRITER_HEAP_BYTES, 1)
    # Fresh segments too: after a sync killed before its state file, they may be in the index
    # already. A delete applies to what was added before it, not to the adds that follow.
    for segment in {*stale, *fresh}:
        writer.delete_documents_by_term("segment", segment)
    by_part: dict[str, list[str]] = {}
    for segment, part in fresh.items():
        by_part.setdefault(part, []).append(segment)
    for part, segments in by_part.items():
        for row in _rows(home, part, segments):
            writer.add_document(_document(row))
    writer.commit()
    writer.wait_merging_threads()
    _write_state(home, live)
    return len(fresh)


def _rows(home: Path, part: str, segments: list[str]) -> Iterator[dict[str, Any]]:
    path = parts_dir(home) / part / f"{TABLE}.parquet"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE TEMP TABLE wanted(segment VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [[s] for s in segments])
        cursor = con.execute(
            f"SELECT t.* FROM read_parquet(?) t JOIN wanted w ON t.{SEGMENT_COLUMN} = w.segment",
            [str(path)])
        columns = [c[0] for c in cursor.description]
        while batch := cursor.fetchmany(10_000):
            for values in batch:
                yield dict(zip(columns, values, strict=True))


def _document(row: dict[str, Any]) -> tantivy.Document:
    text = row["text"] or ""
    captured = row["captured_at"]
    return tantivy.Document(
        words=" ".join(folded_words(text)), text=text.encode("utf-8"), segment=row[SEGMENT_COLUMN],
        case_id=row["case_id"] or "", kind=row["kind"] or "", item_id=row["item_id"] or "",
        capture_id=row["capture_id"] or "", url=row["url"] or "",
        captured_at=captured.isoformat() if captured else "")


def drop_index(home: Path) -> None:
    """Remove the index (a rebuild makes it again from the rebuilt catalog)."""
    with _locked(home):
        shutil.rmtree(_index_dir(home), ignore_errors=True)
        _state_path(home).unlink(missing_ok=True)
