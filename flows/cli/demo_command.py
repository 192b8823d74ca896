"""`bearwitness demo`: the bundled demo site captured end to end, then example queries."""

from __future__ import annotations

from pathlib import Path

from catalog.queries.sql import format_result, run_query
from collectors.errors import CaseExists
from flows.application.capture_options import CaptureOptions
from flows.application.cases import open_case
from flows.application.environment import resolve_home
from flows.cli.capture_command import capture
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands
from flows.demo import SITE_ROOT, SiteServer

DEMO_CASE = "demo"

GPS_QUERY = """
SELECT DISTINCT regexp_replace(i.url, '^https?://[^/]+', '') AS path,
       m.taken_at, m.gps_lat, m.gps_lon, m.camera_model
FROM media_metadata m JOIN items i USING (item_id)
WHERE m.gps_lat IS NOT NULL AND i.case_id = 'demo'
ORDER BY m.taken_at, path"""

NEAR_DUPLICATES_QUERY = """
WITH pairs AS (
  SELECT regexp_replace(a.url, '^https?://[^/]+', '') AS path_a,
         regexp_replace(b.url, '^https?://[^/]+', '') AS path_b, d.algorithm, d.distance
  FROM near_duplicates(10) d
  JOIN items a ON a.item_id = d.item_a
  JOIN items b ON b.item_id = d.item_b
  WHERE a.sha256 <> b.sha256 AND a.case_id = 'demo' AND b.case_id = 'demo')
SELECT least(path_a, path_b) AS image, greatest(path_a, path_b) AS near_duplicate,
       min(distance) FILTER (WHERE algorithm = 'phash') AS phash_bits,
       min(distance) FILTER (WHERE algorithm = 'dhash') AS dhash_bits
FROM pairs GROUP BY ALL ORDER BY image, near_duplicate"""


FLAGGED_QUERY = """
SELECT DISTINCT regexp_replace(i.url, '^https?://[^/]+', '') AS path, f.check, f.outcome
FROM automated_findings f JOIN items i USING (item_id)
WHERE f.flagged AND i.case_id = 'demo' AND f.check IN
      ('capture_time_vs_publication', 'editing_software', 'near_duplicates')
ORDER BY path, f.check"""


def demo_pages(base_url: str, root: Path = SITE_ROOT) -> list[str]:
    pages = ["index.html"] + sorted(p.relative_to(root).as_posix()
                                    for p in (root / "reports").glob("*.html"))
    return [base_url + page for page in pages]


def run_demo(home: Path, port: int = 0) -> int:
    print(f"bearwitness demo: data home {home}")
    try:
        open_case(home, DEMO_CASE, "Demo: a small local news site")
        print(f"case {DEMO_CASE} opened")
    except CaseExists:
        print(f"case {DEMO_CASE} exists already: adding new captures to it "
              "(captures are never replaced)")
    with SiteServer(port=port) as site:
        print(f"demo site serving {SITE_ROOT} at {site.url}")
        # Static mode: fast, and it fetches every srcset candidate, so the demo's queries show
        # the same images on every machine (browser mode loads only the one Chromium picks).
        status = capture(home, DEMO_CASE, demo_pages(site.url),
                         CaptureOptions(mode="static", allow_private=True))
    counts = run_query(home, "SELECT count(*) FROM captures WHERE case_id = 'demo'").rows[0][0]
    items = run_query(home, "SELECT count(*), sum(size_bytes) FROM items "
                            "WHERE case_id = 'demo'").rows[0]
    print(f"\ncatalog: {counts} captures, {items[0]} items, {items[1] or 0} bytes in case demo")
    for title, query in (("Images with GPS positions", GPS_QUERY),
                         ("Near-duplicate images (perceptual hash distance <= 10)",
                          NEAR_DUPLICATES_QUERY),
                         ("Automated checks that flagged a photo (leads for an analyst)",
                          FLAGGED_QUERY)):
        print(f"\n{title}:\n  bearwitness sql \"{' '.join(query.split())}\"\n")
        print(format_result(run_query(home, query)))
    print(f"\nevidence store: {home / 'store'}\ncatalog: {home / 'catalog.duckdb'} "
          "(open it with `duckdb -readonly`, or use `bearwitness sql`)")
    return status


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help=command_help("demo"))
    demo.add_argument("--port", type=int, default=0, help="port for the demo site (default: any)")
    demo.set_defaults(handler=lambda a: run_demo(resolve_home(a.home), port=a.port))
