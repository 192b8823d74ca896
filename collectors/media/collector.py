"""Media capture with yt-dlp, as a library, through the capture's recording proxy.

yt-dlp finds and downloads the media (its generic extractor finds `<video>` on a page; its site
extractors know platforms); every HTTP exchange it makes goes through the recording proxy, so
the media bytes in the WARC are the bytes as received, like every other response. What yt-dlp
writes to disk is only a by-product: when it equals a recorded response it is not stored again;
when it differs (a format merge, a remux) it is kept as a derivative (conversion record naming
its sources, tool, version, parameters) — never as the original.

Names from the web never choose a path: the output template is fixed and hash-based, and the
download directory is checked afterwards.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from collectors.collector import ExchangeSink, ItemRole, Rendition, ResourceProblem
from collectors.http.client import HttpClient
from collectors.http.exchange import HttpExchange
from collectors.http.redaction import scrub_tool_output
from collectors.media.extractors import new_downloader
from collectors.network.personas import PersonaSessions
from collectors.proxy.interception_ca import InterceptionCA
from collectors.proxy.recording_proxy import ProxiedRequest, RecordingProxy, default_role

MEDIA_TAG_MARKERS = ("<video", "<audio", 'property="og:video', "property='og:video")
_INFO_FIELDS = ("id", "title", "description", "uploader", "uploader_id", "uploader_url",
                "channel", "channel_id", "upload_date", "timestamp", "release_timestamp",
                "duration", "webpage_url", "extractor", "extractor_key", "ext", "format_id",
                "width", "height", "view_count", "like_count", "tags", "categories",
                "location")


def page_has_media(html: str | None) -> bool:
    lowered = (html or "").lower()
    return any(marker in lowered for marker in MEDIA_TAG_MARKERS)


def recognised_by_site_extractor(url: str) -> bool:
    """True when a yt-dlp extractor other than the generic one claims `url`."""
    from yt_dlp.extractor import gen_extractor_classes
    for extractor in gen_extractor_classes():
        if extractor.ie_key() == "Generic":
            continue
        if extractor.suitable(url) and extractor.working():
            return True
    return False


@dataclass
class MediaOutcome:
    info: dict[str, Any] | None = None
    renditions: list[Rendition] = field(default_factory=list)
    problems: list[ResourceProblem] = field(default_factory=list)
    contextual: dict[str, Any] = field(default_factory=dict)
    yt_dlp_version: str = ""
    extras_not_fetched: list[dict[str, str]] = field(default_factory=list)
    probes_abandoned: list[dict[str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # yt-dlp's warnings and errors


class _Log:
    """yt-dlp's messages, kept for the record instead of printed."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        self.lines.append(f"warning: {message[:1000]}")

    def error(self, message: str) -> None:
        self.lines.append(f"error: {message[:1000]}")


class _MediaRoles:
    """Roles of yt-dlp's exchanges, from what its extractor said each URL is."""

    def __init__(self) -> None:
        self.by_url: dict[str, ItemRole] = {}
        self._lock = threading.Lock()

    def learn(self, info: dict[str, Any]) -> None:
        with self._lock:
            for entry in [info, *(info.get("requested_formats") or [])]:
                if entry.get("url") and info.get("_type") not in ("playlist", "multi_video"):
                    self.by_url[entry["url"]] = "media"
            if info.get("thumbnail"):
                self.by_url.setdefault(info["thumbnail"], "thumbnail")
            for thumb in info.get("thumbnails") or []:
                if thumb.get("url"):
                    self.by_url.setdefault(thumb["url"], "thumbnail")
            for tracks in (info.get("subtitles") or {}).values():
                for track in tracks:
                    if track.get("url"):
                        self.by_url.setdefault(track["url"], "subtitle")

    def extra_only(self, url: str, *, tunnel: bool) -> bool:
        """Whether `url` (or, for a refused CONNECT, any URL on its host) is only a thumbnail
        or subtitle, not the media."""
        with self._lock:
            if not tunnel:
                return self.by_url.get(url) in ("thumbnail", "subtitle")
            origin = urlsplit(url).netloc.removesuffix(":443")
            roles = {role for known, role in self.by_url.items()
                     if urlsplit(known).netloc.removesuffix(":443") == origin}
            return bool(roles) and roles <= {"thumbnail", "subtitle"}

    def __call__(self, exchange: HttpExchange) -> ItemRole:
        role = default_role(exchange)
        if role == "redirect":
            return role
        with self._lock:
            return self.by_url.get(exchange.url, role)


def _trust_proxy_ca(ydl: Any, ca_file: Path) -> None:
    """yt-dlp verifies TLS (we never set nocheckcertificate); add the capture's interception
    CA to what its handlers trust, because its https requests go through our proxy. Upstream,
    the proxy's HttpClient verifies the real site against the real trust store."""
    for handler in ydl._request_director.handlers.values():  # no public option for a CA file
        original = handler._make_sslcontext

        def with_proxy_ca(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            context = _original(*args, **kwargs)
            context.load_verify_locations(cafile=str(ca_file))
            return context

        handler._make_sslcontext = with_proxy_ca


def fetch_media(url: str, client: HttpClient, sink: ExchangeSink, ca: InterceptionCA,
                spool: Path, *, timeout: float = 30.0, subtitles: bool = True,
                thumbnail: bool = True, personas: PersonaSessions | None = None,
                live_max_seconds: float = 300.0) -> MediaOutcome:
    """Run yt-dlp on `url` through a recording proxy, with the personas' sessions. Never
    raises for a page without media or a failed download: those are problems in the
    outcome."""
    with personas.private_jar() if personas else nullcontext(None) as cookie_file:
        return _fetch_media(url, client, sink, ca, spool, timeout=timeout,
                            subtitles=subtitles, thumbnail=thumbnail, cookie_file=cookie_file,
                            live_max_seconds=live_max_seconds)


def _fetch_media(url: str, client: HttpClient, sink: ExchangeSink, ca: InterceptionCA,
                 spool: Path, *, timeout: float, subtitles: bool, thumbnail: bool,
                 cookie_file: Path | None, live_max_seconds: float) -> MediaOutcome:
    import yt_dlp
    from yt_dlp.utils import DownloadError

    outcome = MediaOutcome(yt_dlp_version=yt_dlp.version.__version__)
    directory = spool / f"yt-dlp-{secrets.token_hex(4)}"
    directory.mkdir(parents=True)
    roles = _MediaRoles()
    log = _Log()
    finished: list[str] = []
    params = {
        "proxy": None,  # set below, once the proxy has a port
        "outtmpl": {"default": "media.%(ext)s", "thumbnail": "thumbnail.%(ext)s",
                    "subtitle": "subtitle.%(ext)s"},
        "paths": {"home": str(directory), "temp": str(directory)},
        "restrictfilenames": True, "windowsfilenames": True, "trim_file_name": 64,
        "noplaylist": True, "quiet": True, "no_warnings": True, "noprogress": True,
        "progress_hooks": [lambda d: finished.append(d.get("filename", ""))
                           if d.get("status") == "finished" else None],
        "writesubtitles": subtitles, "writethumbnail": thumbnail,
        "fixup": "never",  # no silent ffmpeg rewrite of the file
        "hls_prefer_native": True,  # segments through our proxy, never ffmpeg's own fetches
        "external_downloader": {}, "retries": 0, "fragment_retries": 0,
        "socket_timeout": timeout, "cachedir": False, "overwrites": False,
        "format": "best/bestvideo+bestaudio",  # prefer one file as served: no merge needed
        "compat_opts": ["no-certifi"], "logger": log,
    }
    if cookie_file is not None:  # a persona's session: a private copy yt-dlp may write back
        params["cookiefile"] = str(cookie_file)
    # yt-dlp's generic extractor GETs a direct media link to look at it, hangs up, then GETs
    # it again to download it: the look is recorded cut short, not fetched whole twice.
    with RecordingProxy(client, sink, ca, roles, fetch_abandoned=False) as proxy:
        params["proxy"] = proxy.url
        try:
            with new_downloader(params) as ydl:
                _trust_proxy_ca(ydl, ca.ca_file)
                info = ydl.extract_info(url, download=False)
                if info is None:
                    raise DownloadError("yt-dlp found nothing")
                roles.learn(info)
                if info.get("_type") in ("playlist", "multi_video") and info.get("entries"):
                    info = next(iter(info["entries"]))
                roles.learn(info)
                if info.get("is_live"):  # never ends by itself: held to live_max_seconds
                    proxy.end_at(time.monotonic() + live_max_seconds,
                                 f"a live stream, recorded for its cap of {live_max_seconds:g} s"
                                 " (--live-max-seconds)")
                info = ydl.process_ie_result(info, download=True)
                # yt-dlp repeats the session it sent (`cookies`, `http_headers`): digests only.
                outcome.info = scrub_tool_output(ydl.sanitize_info(info))
                roles.learn(outcome.info)
        except (DownloadError, yt_dlp.utils.YoutubeDLError) as exc:
            outcome.problems.append(ResourceProblem(url, f"yt-dlp: {_first_line(exc)}"))
    # After the proxy closed: it waits for requests in flight, so each is recorded and noted
    # (yt-dlp can finish reading a body before the proxy has written it to the WARC).
    requests = list(proxy.requests)
    fetched_whole = {r.url for r in requests if r.sha256}
    if (live_cut := proxy.ended()) is not None:
        outcome.problems.append(ResourceProblem(url, f"recording cut: {live_cut}; what came "
                                                     "before is kept"))
    for request in requests:
        if not request.refused or (live_cut is not None and live_cut in request.refused):
            continue  # the requests after a live stream's cut are said once, above
        if request.abandoned and request.url in fetched_whole:
            # Cut short because yt-dlp stopped reading, and then fetched whole: not a problem.
            outcome.probes_abandoned.append({"url": request.url, "reason": request.refused})
        elif roles.extra_only(request.url, tunnel=request.method == "CONNECT"):
            # An extra the platform offers (a poster on another host, say): noted, but the
            # capture of the media itself is not made partial by it.
            outcome.extras_not_fetched.append({"url": request.url, "reason": request.refused})
        else:
            outcome.problems.append(ResourceProblem(request.url, request.refused))
    outcome.log = list(log.lines)
    if outcome.info is not None:
        _describe(outcome, url, directory, requests)
    return outcome


def _describe(outcome: MediaOutcome, url: str, directory: Path,
              requests: list[ProxiedRequest]) -> None:
    info = outcome.info or {}
    outcome.renditions.append(Rendition(
        "metadata", info.get("webpage_url") or url, "application/json",
        json.dumps({"format": "bearwitness-yt-dlp-info/1", "yt_dlp": outcome.yt_dlp_version,
                    "info": info}, sort_keys=True, ensure_ascii=False, default=str).encode()))
    outcome.contextual = {
        "platform": info.get("extractor_key"), "platform_id": info.get("id"),
        "title": info.get("title"), "description": info.get("description"),
        "uploader": info.get("uploader"), "uploader_id": info.get("uploader_id"),
        "published_at": _upload_date(info), "duration_s": info.get("duration"),
        "webpage_url": info.get("webpage_url"), "yt_dlp": outcome.yt_dlp_version,
        "extras_not_fetched": outcome.extras_not_fetched,
        "probes_abandoned": outcome.probes_abandoned, "log": outcome.log}
    whole = [r for r in requests if r.sha256 and r.status and 200 <= r.status < 300]
    fetched = {r.sha256 for r in whole}
    sources = tuple(f.get("url") for f in (info.get("requested_formats") or [info])
                    if f.get("url"))
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.resolve().parent != directory.resolve():
            continue  # only files yt-dlp wrote where we told it to
        if not path.name.startswith("media."):
            continue  # thumbnails and subtitles are recorded as their HTTP responses
        if _equals_a_recorded_body(path, whole) or (digest := _sha256(path)) in fetched:
            # The recorded response is the evidence; this copy of it goes now, so that the
            # kernel can drop its pages unwritten instead of writing it to disk a third time.
            path.unlink()
            continue
        # The file equals a recorded response when yt-dlp changed nothing; the capture record
        # says so by hash. When it differs, it was transformed: a derivative.
        outcome.renditions.append(Rendition(
            "derivative", f"urn:bearwitness:yt-dlp-output:{digest}",
            _media_type(path), path=path, derived_from_urls=sources,
            tool={"name": "yt-dlp", "version": outcome.yt_dlp_version,
                  "parameters": {"format": info.get("format_id"), "ext": info.get("ext")},
                  "output_sha256": digest, "output_bytes": path.stat().st_size}))


def _upload_date(info: dict[str, Any]) -> str | None:
    date = info.get("upload_date")
    if isinstance(date, str) and len(date) == 8 and date.isdigit():
        return f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return None


def _media_type(path: Path) -> str:
    return {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
            ".m4a": "audio/mp4", ".mp3": "audio/mpeg"}.get(path.suffix.lower(),
                                                            "application/octet-stream")


def _equals_a_recorded_body(path: Path, whole: list[ProxiedRequest]) -> bool:
    """Whether yt-dlp's file holds exactly the bytes of a response recorded whole, compared
    with that response's spool file: equal bytes have the recorded (and hashed-on-arrival)
    digest, and comparing costs a fraction of hashing the file again (a third hash of every
    media byte was a tenth of a media capture's time: docs/design.md#measured-media)."""
    size = path.stat().st_size
    for request in whole:
        if request.entity_path is None or request.entity_length != size:
            continue
        try:
            if _same_bytes(path, request.entity_path):
                return True
        except FileNotFoundError:
            continue
    return False


def _same_bytes(first: Path, second: Path) -> bool:
    with open(first, "rb") as one, open(second, "rb") as other:
        while True:
            chunk = one.read(1 << 20)
            if chunk != other.read(1 << 20):
                return False
            if not chunk:
                return True


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " / ".join(lines) if lines else type(exc).__name__
    cause = getattr(exc, "exc_info", None)
    if cause and cause[1] is not None and str(cause[1]) not in text:
        text += f" ({type(cause[1]).__name__}: {cause[1]})"
    return text[:1000]
