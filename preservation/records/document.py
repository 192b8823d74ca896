"""The base of every stored record: one JSON form, a format name with a version, and a clear
error for a document that is not a readable record of its kind.

Conversion between records and JSON is pydantic's (a TypeAdapter over the frozen dataclass),
not code of ours: it checks the types of what is read and leaves the stored text alone. Times
stay the ISO 8601 text that was stored; several stored documents are hashed in their stored
form (custody events, manifests), so a record must never re-spell what it read.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar, Self

from pydantic import TypeAdapter, ValidationError

from collectors.errors import UnreadableRecord

# By hand rather than functools.cache: mypy checks a class passed to a cached function against
# Hashable with the instance's __hash__, and refuses it.
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def _adapter(kind: type) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


class Document:
    """Mixin for frozen dataclasses stored as JSON documents."""

    FORMAT: ClassVar[str]  # e.g. "bearwitness-capture/1"
    # Fields added after records of this format were first stored: left out of the stored form
    # while they hold their default, so a record stored before them reads back exactly as
    # stored, and a new record that does not use them is spelt as before.
    LATER_FIELDS: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = _adapter(type(self)).dump_python(self, mode="json")
        if self.LATER_FIELDS:
            # Every Document is a dataclass; mypy cannot know that of the mixin.
            fields = dataclasses.fields(self)  # type: ignore[arg-type]
            defaults = {f.name: f.default for f in fields if f.name in self.LATER_FIELDS}
            for name, default in defaults.items():
                if getattr(self, name) == default:
                    document.pop(name, None)
        return document

    def to_json(self) -> str:
        """The stored form: sorted keys, two-space indent, UTF-8 kept as is."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, document: Any, *, where: str = "document") -> Self:
        """The record `document` holds; UnreadableRecord when it is not one of this kind, or
        of a later version than this code reads."""
        if not isinstance(document, dict):
            raise UnreadableRecord(f"{where}: not a JSON object")
        check_format(cls.FORMAT, document.get("format"), where)
        try:
            record: Self = _adapter(cls).validate_python(document)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors()[:5])
            raise UnreadableRecord(f"{where}: not a readable {cls.__name__} ({problems})") from exc
        return record

    @classmethod
    def from_json(cls, text: str | bytes, *, where: str = "document") -> Self:
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableRecord(f"{where}: not JSON ({exc})") from exc
        return cls.from_dict(document, where=where)


def check_format(expected: str, found: Any, where: str) -> None:
    """`found` must be `expected`'s format at a version this code reads (the same or older)."""
    name, _, version = expected.rpartition("/")
    if not isinstance(found, str) or found.rpartition("/")[0] != name:
        raise UnreadableRecord(f"{where}: format {found!r} is not {name}")
    found_version = found.rpartition("/")[2]
    if not found_version.isdigit() or int(found_version) > int(version):
        raise UnreadableRecord(f"{where}: {found} is newer than this bearwitness reads "
                               f"({expected}); upgrade bearwitness")
