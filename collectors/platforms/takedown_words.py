"""The phrases a platform uses when it does not show a post, and the state each one means
(collectors/platforms/post.py): a table each platform module declares, read the same way for
every platform. The first phrase found wins, so a table lists the narrower phrase before the
broader one ("post deleted" before "deleted")."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.platforms.html_reading import words_with
from collectors.platforms.post import POST_STATES, PlatformResponse, PostState


@dataclass(frozen=True)
class TakedownWords:
    """(phrase, state) pairs, phrases in lower case: a platform's own words for a post that is
    gone, withheld, private or behind a login wall."""

    phrases: tuple[tuple[str, PostState], ...]

    def __post_init__(self) -> None:
        for phrase, state in self.phrases:
            if state not in POST_STATES:
                raise ValueError(f"{state!r} (for {phrase!r}) is not a post state")
            if phrase != phrase.lower():
                raise ValueError(f"{phrase!r}: phrases are matched in lower case")

    def state_of(self, words: str) -> PostState | None:
        """The state a platform's statement names (an error message, a tombstone's text);
        a typographic apostrophe reads as a straight one."""
        lowered = words.replace("\u2019", "'").lower()
        return next((state for phrase, state in self.phrases if phrase in lowered), None)

    def in_page(self, response: PlatformResponse) -> tuple[PostState, str] | None:
        """The state an HTML answer states, with the platform's words for it: the text of the
        element that holds the phrase (html_reading.words_with), or the phrase itself when
        only a script or a style holds it."""
        text = response.text()
        lowered = text.lower()
        for phrase, state in self.phrases:
            if phrase in lowered:
                return state, words_with(text, phrase) or phrase
        return None
