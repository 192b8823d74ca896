"""Rendering an evidence report as one self-contained, printable HTML page.

Facts stay apart from judgement: what bearwitness recorded (the item, its times, hashes,
collection data, the page's claims as claims, embedded metadata, neighbours) comes first; the
machine leads next; the analysts' steps and the status they lead to after; the custody trail
last. Every value is escaped; images are inlined as data: URIs; a Content-Security-Policy lets
the page load nothing from anywhere, so opening it contacts no one.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the data module imports this one to render
    from catalog.reports.evidence_report import ReportData, ReportStep
    from preservation.records.capture import CaptureRecord

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_KEY_TAGS = (
    "File:FileType", "File:MIMEType", "File:ImageWidth", "File:ImageHeight", "EXIF:Make",
    "EXIF:Model", "EXIF:Software", "EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal",
    "EXIF:CreateDate", "EXIF:ModifyDate", "EXIF:GPSLatitude", "EXIF:GPSLatitudeRef",
    "EXIF:GPSLongitude", "EXIF:GPSLongitudeRef", "EXIF:Artist", "EXIF:Copyright",
    "EXIF:ImageDescription", "XMP:CreatorTool", "XMP:CreateDate", "IPTC:By-line")
_COMMON = ("method", "findings", "result", "confidence", "tools", "inputs", "reviewer",
           "supersedes", "reason")
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
margin:0 auto;max-width:60rem;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.15rem;border-bottom:2px solid #1b1f24;
margin-top:2rem;padding-bottom:.2rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #c9ced6;
padding:.25rem .45rem;text-align:left;vertical-align:top}th{background:#f0f2f5;width:14rem;
font-weight:600}td{word-break:break-word}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:12px}.note{color:#4a5360;font-size:13px}.part{font-size:.8rem;letter-spacing:.08em;
text-transform:uppercase;color:#4a5360;margin-top:2.2rem}
.badge{display:inline-block;border-radius:3px;padding:0 .4rem;font-size:12px;font-weight:600;
border:1px solid #8a939f}.verified,.supports{background:#dff3e4}.disputed,.contradicts{
background:#fbe0e0}.in_review,.inconclusive{background:#fff4d6}.unverified{background:#eceff3}
.flag{background:#fff4d6}.step{border:1px solid #c9ced6;border-radius:4px;padding:.4rem .7rem;
margin:.6rem 0;page-break-inside:avoid}.superseded{opacity:.65}
figure{margin:.6rem 0}figure img{max-width:100%;max-height:32rem;border:1px solid #c9ced6}
figcaption{font-size:12px;color:#4a5360}small{color:#4a5360}.nw{white-space:nowrap}
@media print{body{max-width:none;padding:0}h2{page-break-after:avoid}
section{page-break-inside:auto}}
"""


def _e(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return '<span class="note">—</span>'
    if isinstance(value, (dict, list)):
        return f'<span class="mono">{escape(json.dumps(value, ensure_ascii=False))}</span>'
    return escape(str(value))


def _mono(value: Any) -> str:
    return f'<span class="mono">{_e(value)}</span>' if value else _e(value)


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(label)}</th><td>{cell}</td></tr>" for label, cell in rows)
    return f"<table>{body}</table>"


def _grid(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return '<p class="note">None.</p>'
    head = "".join(f"<th style='width:auto'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(data: ReportData) -> str:
    item, record = data.item, data.record
    sections = [_header(data), '<p class="part">Facts recorded by bearwitness</p>',
                _item_section(data), _times_section(data), _hashes_section(data),
                _collection_section(record), _claims_section(record),
                _metadata_section(data), _neighbours_section(data),
                '<p class="part">Machine leads (not conclusions)</p>', _automated_section(data),
                '<p class="part">Analysts\' judgement</p>', _status_section(data),
                _steps_section(data), '<p class="part">Chain of custody</p>',
                _custody_section(data), _metadata_dump(data)]
    title = f"Evidence report: item {item.item_id}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _header(data: ReportData) -> str:
    case, status = data.case, data.status.status
    return (f"<header><p class=\"note\">Berkeley Protocol evidence report · case "
            f"{_e(case.case_id)}: {_e(case.title)}</p>"
            f"<h1>Item <span class=\"mono\">{_e(data.item.item_id)}</span></h1>"
            f"<p>Status: <span class=\"badge {escape(status)}\" id=\"status\">{_e(status)}</span>"
            f" · report {_mono(data.report_id)} · generated {_e(data.generated_at)} by "
            f"{_e(data.software)}</p><p class=\"note\">Facts recorded by the system come "
            "first; machine leads and analysts' judgement follow in their own parts. The page's "
            "claims are shown as claims. The sha256 of this report is in the custody log "
            "(action export), not in the report itself.</p></header>")


def _item_section(data: ReportData) -> str:
    item = data.item
    figures = ""
    if data.preview:
        figures += _figure(data.preview, "the item as captured (its working copy)")
    for shot in data.screenshots:
        figures += _figure(shot, "screenshot of the page at capture")
    if not figures:
        figures = '<p class="note">No image of this item and no screenshot in its capture.</p>'
    rows = [("item id", _mono(item.item_id)), ("URL", _mono(item.url)),
            ("role", _e(item.role)), ("HTTP status", _e(item.http_status)),
            ("media type", _e(item.mime_type)), ("size", f"{item.size_bytes} bytes"),
            ("truncated", _e(item.truncated or "no"))]
    return f"<section><h2>1. The item</h2>{figures}{_table(rows)}</section>"


def _figure(image: dict[str, str], caption: str) -> str:
    return (f"<figure><img src=\"{image['data_uri']}\" alt=\"{escape(caption)}\">"
            f"<figcaption>{escape(caption)} · sha256 <span class=\"mono\">"
            f"{escape(image['sha256'])}</span></figcaption></figure>")


def _times_section(data: ReportData) -> str:
    item, record = data.item, data.record
    claims = record.claims or {}
    windows = [s.step for s in data.steps if s.step.step_type == "chronolocation"
               and not s.superseded_by]
    event = "<br>".join(f"{_e(s.fields['window_start'])} – {_e(s.fields['window_end'])} "
                        f"(step {_mono(s.step_id)} by {_e(s.analyst)})" for s in windows) \
        or '<span class="note">not established: no current chronolocation step</span>'
    source = (claims.get("sources") or {}).get("published_time")
    published = f"{_e(claims.get('published_time'))}" + (
        f" <small>(from {escape(source)})</small>" if source else "")
    rows = [("captured_at (ours)", f"{_e(item.captured_at)} <small>request sent; capture "
             f"ran {_e(record.started_at)} – {_e(record.ended_at)}</small>"),
            ("published_at (as the page claims)", published),
            ("event_time (chronolocation only)", event)]
    return ("<section><h2>2. Times, kept apart</h2>" + _table(rows) + "<p class=\"note\">No "
            "time is copied into another: the capture time is ours, the publication time is "
            "the page's claim, the event time comes only from an analyst's chronolocation."
            "</p></section>")


def _hashes_section(data: ReportData) -> str:
    item, warc = data.item, data.record.warc
    rows = [("item sha256", _mono(item.sha256)),
            ("WARC file", _mono(warc.path)), ("WARC sha256", _mono(warc.sha256)),
            ("WARC sha512", _mono(warc.sha512)),
            ("WARC record", f"{_mono(item.warc_record_id)} at offset "
                            f"{_e(item.warc_offset)}"),
            ("working copy", _mono(item.working_copy))]
    return ("<section><h2>3. Hashes</h2>" + _table(rows) + "<p class=\"note\">The item's sha256 "
            "covers the body as the site sent it (transfer coding removed); the WARC holds the "
            "raw bytes and is the evidentiary copy.</p></section>")


def _collection_section(record: CaptureRecord) -> str:
    rows = [("capture id", _mono(record.capture_id)), ("status", _e(record.status)),
            ("requested URL", _mono(record.requested_url)),
            ("final URL", _mono(record.final_url)),
            ("redirects", _e(list(record.redirects))), ("mode", _e(record.mode)),
            ("collector", _e(record.collector)), ("operator", _e(record.operator)),
            ("persona", _e(record.persona)), ("route", _e(record.route)),
            ("user agent", _mono(record.user_agent)), ("run", _mono(record.run_id)),
            ("tools", _e(record.tools)),
            ("discovered via", _mono(record.discovered_via)),
            ("problems", _e(record.error))]
    return f"<section><h2>4. Collection data</h2>{_table(rows)}</section>"


def _claims_section(record: CaptureRecord) -> str:
    claims = record.claims or {}
    if not claims:
        return ("<section><h2>5. What the page claims</h2><p class=\"note\">No claims read "
                "(not an HTML page, or none found).</p></section>")
    rows = [(name, _e(claims.get(name))) for name in
            ("title", "published_time", "modified_time", "author", "canonical", "description")]
    rows.append(("Open Graph / article", _e(claims.get("open_graph"))))
    return ("<section><h2>5. What the page claims</h2><p class=\"note\">Contextual data as "
            "written on the captured page: claims, not facts.</p>" + _table(rows) + "</section>")


def _metadata_section(data: ReportData) -> str:
    analysis = data.analysis
    if not analysis:
        return ("<section><h2>6. Embedded metadata</h2><p class=\"note\">Not analysed (not a "
                "media item, or no working copy).</p></section>")
    fields = analysis.get("fields") or {}
    metadata = analysis.get("metadata") or {}
    rows = [(name, _e(fields.get(name))) for name in
            ("taken_at", "taken_at_offset", "gps_lat", "gps_lon", "camera_make", "camera_model",
             "software", "width", "height", "duration_s")]
    rows += [(tag, _e(metadata[tag])) for tag in _KEY_TAGS if tag in metadata]
    hashes = analysis.get("hashes") or {}
    rows += [(f"{name} (perceptual)", _mono(f"{int(value):016x}"))
             for name, value in sorted(hashes.items())]
    rows.append(("hash decode", _e(analysis.get("hash_decode"))))
    rows.append(("tools", _e(f"exiftool {analysis.get('exiftool_version')}; "
                             f"{analysis.get('hash_software')}")))
    errors = [e for e in (analysis.get("metadata_error"), analysis.get("hash_error")) if e]
    if errors:
        rows.append(("analysis errors", _e(errors)))
    return (f"<section><h2>6. Embedded metadata</h2><p class=\"note\">Read by exiftool from the "
            f"working copy; {len(metadata)} tags in all (listed at the end).</p>"
            f"{_table(rows)}</section>")


def _neighbours_section(data: ReportData) -> str:
    rows = [[_mono(n["item_id"]), _mono(n["url"]), _e(n["captured_at"]),
             f"{n['phash_bits']} / {n['dhash_bits']}", "yes" if n["exact"] else "no"]
            for n in data.neighbours]
    return ("<section><h2>7. Perceptual neighbours in the case</h2><p class=\"note\">Images "
            "within 10 bits on both phash and dhash. A perceptual match is a provenance lead, "
            "never proof of integrity; exact copies share the sha256.</p>"
            + _grid(["item", "URL", "captured_at", "phash / dhash bits", "same sha256"], rows)
            + "</section>")


def _automated_section(data: ReportData) -> str:
    machine = [s.step for s in data.steps if s.step.automated]
    if not machine:
        return ("<section><h2>8. Automated checks</h2><p class=\"note\">None ran on this "
                "item.</p></section>")
    parts = []
    for step in machine:
        rows = [[f'<span class="nw">{_e(c["check"])}</span>',
                 f'<span class="nw">{_e(c["outcome"])}</span>',
                 '<span class="badge flag nw">look</span>' if c["flagged"] else "",
                 _e(c["detail"])] for c in step.fields.get("checks", [])]
        parts.append(f"<p class=\"note\">Step {_mono(step.step_id)} by {_e(step.analyst)}"
                     f" at {_e(step.at)}</p>" + _grid(["check", "outcome", "", "detail"], rows))
    return "<section><h2>8. Automated checks</h2>" + "".join(parts) + "</section>"


def _status_section(data: ReportData) -> str:
    status = data.status
    lines = "".join(f"<li>{_e(line)}</li>" for line in status.explanation)
    return (f"<section><h2>9. Status: <span class=\"badge {escape(status.status)}\">"
            f"{_e(status.status)}</span></h2><p>{_e(data.policy)}</p>"
            f"<ul class=\"mono\">{lines}</ul></section>")


def _steps_section(data: ReportData) -> str:
    human = [s for s in data.steps if not s.step.automated]
    if not human:
        return ("<section><h2>10. Verification steps</h2><p class=\"note\">No analyst has "
                "recorded a step on this item.</p></section>")
    return ("<section><h2>10. Verification steps</h2>" + "".join(map(_step, human))
            + "</section>")


def _step(shown: ReportStep) -> str:
    step, superseded = shown.step, shown.superseded_by
    fields = step.fields
    note = f" · <b>superseded by {_mono(superseded)}</b>" if superseded else ""
    tools = "; ".join(f"{t['name']} {t['version']}" for t in fields.get("tools", []))
    inputs = "<br>".join(f"{_mono(i['item_id'])} sha256 {_mono(i['sha256'])}"
                         for i in fields.get("inputs", []))
    rows = [("method", _e(fields.get("method"))), ("findings", _e(fields.get("findings"))),
            ("tools", _e(tools)), ("inputs", inputs), ("reviewer", _e(fields.get("reviewer")))]
    if fields.get("supersedes"):
        rows.append(("corrects", f"{_mono(fields['supersedes'])}: {_e(fields.get('reason'))}"))
    rows += [(name, _e(value)) for name, value in fields.items()
             if name not in _COMMON and value not in (None, [], {})]
    result = fields.get("result") or ""
    css = "step superseded" if superseded else "step"
    return (f"<div class=\"{css}\" id=\"{escape(step.step_id)}\">"
            f"<h3>{_e(step.step_type)} · {_mono(step.step_id)}</h3><p>by "
            f"<b>{_e(step.analyst)}</b> at {_e(step.at)} · result "
            f"<span class=\"badge {escape(result)}\">{_e(result)}</span> · confidence "
            f"{_e(fields.get('confidence'))}{note}</p>{_table(rows)}</div>")


def _custody_section(data: ReportData) -> str:
    custody = data.custody
    rows = [[_e(e["at"]), _e(e["actor"]), _e(e["action"]), _mono(e["object_id"]),
             _mono(e.get("sha256")), _e(e.get("purpose")), _mono(e.get("event_hash"))]
            for e in custody["events"]]
    chains = "".join(
        f"<li><span class=\"mono\">{_e(c['segment'])}</span>: "
        + ("chain intact" if not c["problems"] else _e("; ".join(c["problems"]))) + "</li>"
        for c in custody["chains"])
    return ("<section><h2>11. Custody trail</h2><p class=\"note\">Events about this item, its "
            "capture, its payload and its steps, read from the store's custody segments; each "
            f"segment's hash chain checked:</p><ul>{chains}</ul>"
            + _grid(["at (UTC)", "actor", "action", "object", "sha256", "purpose", "event hash"],
                    rows) + "</section>")


def _metadata_dump(data: ReportData) -> str:
    metadata = (data.analysis or {}).get("metadata") or {}
    if not metadata:
        return ""
    rows = [[_mono(key), _e(value)] for key, value in sorted(metadata.items())]
    return ("<section><h2>Appendix: every embedded metadata tag</h2>"
            + _grid(["tag", "value"], rows) + "</section>")
