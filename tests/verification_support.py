"""Building a real evidence store for the verification tests without Prefect: the same plain
functions the capture flow calls (capture, analysis, automated checks, landing), in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.landing import land_capture, land_custody
from catalog.queries.neighbours import CatalogImages
from catalog.queries.sql import run_query
from catalog.storage.views import ensure_catalog
from collectors.network.addresses import AddressPolicy
from collectors.http.client import HttpClient
from collectors.static.collector import StaticCollector
from flows.cli.core_commands import case_new
from flows.application.environment import open_store
from preservation.capture.preserve import capture_url
from preservation.capture.collection import (BEARWITNESS_VERSION, CollectionContext, base_tool_versions,
                                     new_id)
from preservation.custody.log import Actor, CustodyLog
from verification.checks.automated_checks import run_automated_checks
from verification.media.media_analysis import analyse_media

VALID_SHA = "0" * 64


def open_case(home: Path, case_id: str) -> None:
    case_new(home, case_id, f"Test case {case_id}", None, "tester")


def capture_plain(home: Path, case_id: str, urls: list[str],
                  discovered_via: str | None = None) -> list[dict[str, Any]]:
    """Capture `urls` as the flow does, minus Prefect; returns the capture records."""
    store = open_store(home)
    run_id = new_id("run")
    context = CollectionContext(collector="tester", user_agent="bearwitness-tests",
                                tool_versions=base_tool_versions(), run_id=run_id,
                                allow_private=True, discovered_via=discovered_via)
    policy = AddressPolicy(allow_private=True)
    with CustodyLog(store.custody_dir(), f"{run_id}-collect",
                    Actor("tester", "bearwitness", BEARWITNESS_VERSION)) as custody:
        records = [capture_url(store, case_id, url,
                               lambda spool: StaticCollector(HttpClient(policy, spool)),
                               context, custody).record for url in urls]
        analyse_media(store, records, custody, workers=1)
        run_automated_checks(store, records, custody, CatalogImages(home))
    for record in records:
        land_capture(home, store, record)
    land_custody(home, store.custody_dir() / f"{run_id}-collect.jsonl")
    ensure_catalog(home)
    return records


def item_of(home: Path, url_suffix: str, capture_id: str | None = None) -> tuple[str, str]:
    """(item_id, sha256) of the first item whose URL ends with `url_suffix`."""
    sql = "SELECT item_id, sha256 FROM items WHERE url LIKE ?"
    params: list[Any] = [f"%{url_suffix}"]
    if capture_id:
        sql += " AND capture_id = ?"
        params.append(capture_id)
    rows = run_query(home, sql + " ORDER BY captured_at LIMIT 1", params).rows
    assert rows, f"no item ending {url_suffix}"
    return rows[0]


def common(item_id: str, sha256: str, **overrides: Any) -> dict[str, Any]:
    """Valid common fields of a step about `item_id`."""
    fields = {"method": "Compared the picture with reference imagery.",
              "findings": "The features match.", "result": "supports", "confidence": "medium",
              "tools": [{"name": "Google Earth Pro", "version": "7.3.6"}],
              "inputs": [{"item_id": item_id, "sha256": sha256}]}
    return fields | overrides


# One valid set of own fields per step type (besides the common ones).
OWN_FIELDS: dict[str, dict[str, Any]] = {
    "source_analysis": {"source": "https://monitor.example.org/", "platform": "website",
                        "provenance": "second_hand", "account_created": "2019-04-01",
                        "credibility": "regional outlet, accurate before",
                        "attenuation": "two days"},
    "provenance_search": {"searched": ["Google Lens", "Yandex Images", "TinEye"],
                          "query_hashes": ["sha256:" + VALID_SHA],
                          "hits": [{"url": "https://t.me/x/1", "first_seen": "2026-03-12"}],
                          "earliest_known": {"url": "https://t.me/x/1",
                                             "first_seen": "2026-03-12T12:00:00+00:00"}},
    "technical_analysis": {"container": "JPEG", "anomalies": [], "reencoded": False,
                           "metadata_stripped": False,
                           "metadata_tool": {"name": "exiftool", "version": "12.57"}},
    "geolocation": {"lat": 36.2021, "lon": 37.1343, "uncertainty_m": 30,
                    "claimed_place": "covered market",
                    "reference_imagery": [{"provider": "Sentinel-2", "date": "2026-03-01"}],
                    "matched_features": ["minaret", "roof line"]},
    "chronolocation": {"window_start": "2026-03-12T13:30:00+03:00",
                       "window_end": "2026-03-12T15:00:00+03:00",
                       "claimed_time": "Thursday 12 March, early afternoon",
                       "references": ["shadow azimuth (SunCalc)"]},
    "content_analysis": {"observed": "smoke behind the market, shoppers running",
                         "language": "Arabic shop signs", "inconsistencies": []},
    "corroboration": {"linked": [{"url": "https://example.org/other-report", "relation": "agrees",
                                  "independent": True}],
                      "independence": "different outlet"},
    "peer_review": {"reviews": ["step-x"], "outcome": "confirmed", "scope": "all steps"},
}
