"""yt-dlp's default extractors, chosen once per process instead of once per download.

`YoutubeDL(params)` picks its ~1,800 extractors by matching every name against its `default`
alias as a regular expression: 0.3–0.6 s on each media fetch here, a fixed cost that dwarfs a
small file's download (docs/design.md#measured-media). The choice depends only on the yt-dlp
installed (we never set `allowed_extractors`), so it is made once with yt-dlp's own function and
each YoutubeDL gets the same extractors, in the same order (tests/test_media_extractors.py
compares them with yt-dlp's own choice).
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _default_names() -> tuple[str, ...]:
    """The names YoutubeDL.add_default_info_extractors chooses, by its own rule."""
    from yt_dlp.utils import orderedSet_from_options
    classes = _classes_by_name()
    return tuple(orderedSet_from_options(
        ["default"], {"all": list(classes),
                      "default": [name for name, ie in classes.items() if ie._ENABLED]},
        use_regex=True))


def _classes_by_name() -> dict[str, Any]:
    from yt_dlp.extractor import gen_extractor_classes
    from yt_dlp.extractor.common import UnsupportedURLIE
    classes: dict[str, Any] = {ie.IE_NAME.lower(): ie for ie in gen_extractor_classes()}
    classes["end"] = UnsupportedURLIE  # yt-dlp's catch-all, added as an instance
    return classes


def new_downloader(params: dict[str, Any]) -> Any:
    """A `yt_dlp.YoutubeDL(params)` with the default extractors, as yt-dlp would add them."""
    import yt_dlp
    ydl = yt_dlp.YoutubeDL(params, auto_init=False)
    classes = _classes_by_name()
    for name in _default_names():
        ie = classes[name]
        ydl.add_info_extractor(ie() if name == "end" else ie)
    return ydl
