"""A real evidence store for the verification tests, made by the application layer's capture
job without Prefect (capture, analysis, automated checks, report, landing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.queries.sql import run_query
from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case as open_new_case

VALID_SHA = "0" * 64


def open_case(home: Path, case_id: str) -> None:
    open_new_case(home, case_id, f"Test case {case_id}", by="tester")


def capture_plain(home: Path, case_id: str, urls: list[str],
                  discovered_via: str | None = None) -> list[dict[str, Any]]:
    """Capture `urls` with the application's capture job (the flow's steps, minus Prefect);
    returns the stored capture records (JSON)."""
    options = CaptureOptions(mode="static", media="off", allow_private=True,
                             user_agent="bearwitness-tests", discovered_via=discovered_via)
    attempts = capture_urls(home, case_id, urls, options, collector="tester")
    return [a.record.to_dict() for a in attempts if a.record is not None]


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
