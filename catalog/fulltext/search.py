"""Searching the full-text index: the query's words folded as the text's were
(catalog/fulltext/words.py), tantivy's query language otherwise (AND, OR, NOT, "a phrase",
-word), and a snippet around the first words that match."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tantivy

from catalog.fulltext.index import open_index, sync_index
from catalog.fulltext.words import fold, folded_words, spans
from collectors.errors import UsageError

SNIPPET_WORDS = 12  # on each side of the first match
_OPERATORS = {"AND", "OR", "NOT"}
# A word of the query language, or anything between: quotes, parentheses, +, -.
_QUERY_PART = re.compile(r'[^\s"()+\-]+|[\s"()+\-]+')


@dataclass(frozen=True)
class Hit:
    item_id: str
    capture_id: str
    case_id: str
    url: str
    captured_at: str
    kind: str
    score: float
    snippet: str


def query_words(query: str) -> str:
    """The query with each of its words folded (operators kept as tantivy wants them)."""
    out = []
    for part in _QUERY_PART.findall(query):
        if part in _OPERATORS or not part.strip() or part[0] in '"()+-' or part[0].isspace():
            out.append(part)
        else:
            out.append(" ".join(folded_words(part)) or '""')
    return "".join(out)


def search(home: Path, query: str, *, case_id: str | None = None, limit: int = 20) -> list[Hit]:
    """The texts matching `query`, best first, each with a snippet."""
    if not folded_words(query):
        raise UsageError(f"nothing to search for in {query!r}")
    sync_index(home)
    index = open_index(home)
    index.reload()
    try:
        parsed = index.parse_query(query_words(query), ["words"], conjunction_by_default=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse the search {query!r}: {exc}") from exc
    if case_id is not None:
        parsed = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, parsed),
            (tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "case_id", case_id))])
    searcher = index.searcher()
    wanted = set(folded_words(query)) - {fold(o) for o in _OPERATORS}
    hits = []
    for score, address in searcher.search(parsed, limit).hits:
        document = searcher.doc(address)
        text = bytes(document.get_first("text") or b"").decode("utf-8", errors="replace")
        field = {name: str(document.get_first(name) or "") for name in (
            "item_id", "capture_id", "case_id", "url", "captured_at", "kind")}
        hits.append(Hit(field["item_id"], field["capture_id"], field["case_id"], field["url"],
                        field["captured_at"], field["kind"], float(score),
                        snippet(text, wanted)))
    return hits


def snippet(text: str, wanted: set[str]) -> str:
    """The words around the first of `wanted` in `text`, matches in [brackets]."""
    words = list(spans(text))
    first = next((n for n, (a, b) in enumerate(words) if fold(text[a:b]) in wanted), 0)
    window = words[max(0, first - SNIPPET_WORDS): first + SNIPPET_WORDS + 1]
    if not window:
        return text[:200]
    out = []
    cursor = window[0][0]
    for a, b in window:
        out.append(text[cursor:a])
        word = text[a:b]
        out.append(f"[{word}]" if fold(word) in wanted else word)
        cursor = b
    prefix = "…" if window[0][0] > 0 else ""
    suffix = "…" if window[-1][1] < len(text) else ""
    return prefix + " ".join("".join(out).split()) + suffix
