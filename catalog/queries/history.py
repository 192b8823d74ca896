"""`source_history`: what happened to each source over time, derived from captures and items.

For every (case, requested URL), captures in time order, each with a state:
  first_seen   the first capture that got the content
  changed      the page payload hash or the main-media hashes differ from the previous capture
               that got the content
  unchanged    same hashes as the previous capture that got the content
  unavailable  the source is gone: HTTP 404/410, DNS has no address, or a platform says the media
               is unavailable/removed (the error, with the platform's message, is in `detail`)
  deleted, removed, suspended, withheld, private
               a platform's own statement that the post is gone, and why (its words in
               `detail`; collectors/platforms/takedown.py); gone like `unavailable`
  reappeared   content again after any of those
  login_wall   the platform answered with a log-in wall: no conclusion, like `failed`
  failed       no conclusion: time-out, refused connection, 5xx, … (not a takedown signal)
Everything is a view over the catalog's tables, so a rebuild from the store gives it back.
"""

from __future__ import annotations

from collectors.platforms.takedown import STATE_OF_FAILURE, TAKEDOWN_FAILURES

GONE_HTTP_STATUSES = (404, 410)
GONE_FAILURES = ("NameNotResolved", "MediaUnavailable", *TAKEDOWN_FAILURES)
WALLED_FAILURES = tuple(n for n, state in STATE_OF_FAILURE.items() if state == "login_wall")


def _sql_list(values: tuple[object, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + ")"


_GONE_STATE = "CASE failure " + " ".join(
    f"WHEN '{name}' THEN '{state}'" for name, state in sorted(STATE_OF_FAILURE.items())
    if name in TAKEDOWN_FAILURES) + " ELSE 'unavailable' END"

_PREVIOUS = "OVER (PARTITION BY case_id, url ORDER BY captured_at, capture_id " \
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"

SOURCE_HISTORY = f"""
CREATE VIEW source_history AS
WITH observed AS (
  SELECT c.case_id, c.requested_url AS url, c.started_at AS captured_at, c.capture_id,
         c.status, c.http_status, c.error, c.failure,
         (SELECT max(i.sha256) FROM items i WHERE i.capture_id = c.capture_id
            AND i.role = 'page' AND NOT i.truncated) AS page_hash,
         (SELECT string_agg(i.sha256, ',' ORDER BY i.sha256) FROM items i
            WHERE i.capture_id = c.capture_id AND i.role = 'media' AND NOT i.truncated)
           AS media_hash,
         CASE WHEN c.failure IN {_sql_list(WALLED_FAILURES)} THEN 'walled'
              WHEN c.status IN ('complete', 'partial') THEN 'available'
              WHEN c.failure IN {_sql_list(GONE_FAILURES)}
                OR c.http_status IN {_sql_list(GONE_HTTP_STATUSES)} THEN 'gone'
              ELSE 'error' END AS availability
  FROM captures c
), compared AS (
  SELECT *,
    count(*) FILTER (WHERE availability = 'available') {_PREVIOUS} AS earlier_available,
    last_value(CASE WHEN availability IN ('available', 'gone') THEN availability END
               IGNORE NULLS)
      {_PREVIOUS} AS previous_conclusive,
    last_value(CASE WHEN availability = 'available' THEN page_hash END IGNORE NULLS)
      {_PREVIOUS} AS previous_page_hash,
    last_value(CASE WHEN availability = 'available' THEN media_hash END IGNORE NULLS)
      {_PREVIOUS} AS previous_media_hash
  FROM observed
), stated AS (
  SELECT *,
    page_hash IS NOT NULL AND previous_page_hash IS NOT NULL
      AND page_hash <> previous_page_hash AS page_changed,
    coalesce(media_hash, '') <> coalesce(previous_media_hash, '')
      AND (media_hash IS NOT NULL OR previous_media_hash IS NOT NULL) AS media_changed
  FROM compared
)
SELECT url, case_id, captured_at,
  CASE WHEN availability = 'gone' THEN {_GONE_STATE}
       WHEN availability = 'walled' THEN 'login_wall'
       WHEN availability = 'error' THEN 'failed'
       WHEN previous_conclusive = 'gone' THEN 'reappeared'
       WHEN earlier_available = 0 THEN 'first_seen'
       WHEN page_changed OR media_changed THEN 'changed'
       ELSE 'unchanged' END AS state,
  capture_id,
  CASE WHEN availability <> 'available'
         THEN coalesce(error, 'HTTP ' || http_status::VARCHAR, status)
       WHEN previous_conclusive = 'gone' AND (page_changed OR media_changed)
         THEN 'back with different content: page sha256:' || coalesce(page_hash, '?')
       WHEN previous_conclusive = 'gone' THEN 'back with the content last seen'
       WHEN page_changed OR media_changed THEN concat_ws('; ',
         CASE WHEN page_changed THEN 'page sha256:' || previous_page_hash
                                     || ' -> sha256:' || page_hash END,
         CASE WHEN media_changed THEN 'media ' || coalesce(previous_media_hash, 'none')
                                      || ' -> ' || coalesce(media_hash, 'none') END)
       ELSE 'page sha256:' || coalesce(page_hash, '?') END AS detail
FROM stated
"""

VIEWS = [SOURCE_HISTORY]
