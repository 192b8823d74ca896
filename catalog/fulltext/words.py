"""Words as the full-text index sees them, the same for text and query, in any script.

A word is a run of letters, combining marks and digits (so an Arabic word keeps its harakat and
a Devanagari word its vowel signs while being cut out). It is then folded: decomposed (NFKD),
stripped of combining marks, case-folded — `École` and `ecole` are one word, and so are
`كِتَاب` and `كتاب`. Scripts written without spaces between words (Burmese, Thai, Chinese)
come out as runs between spaces and punctuation: a query finds such a run whole, not a word
inside it (docs/catalog.md, "Full-text search")."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

_WORD_CATEGORIES = frozenset("LMN")


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each word of `text`."""
    start = -1
    for position, char in enumerate(text):
        if unicodedata.category(char)[0] in _WORD_CATEGORIES:
            if start < 0:
                start = position
        elif start >= 0:
            yield start, position
            start = -1
    if start >= 0:
        yield start, len(text)


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def folded_words(text: str) -> list[str]:
    return [w for w in (fold(text[a:b]) for a, b in spans(text)) if w]
