"""The evidence store's typed reads and lists, per kind of record: cases and what they hold,
captures, verification steps, analyses of working copies, run reports and manifests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from collectors.errors import UnknownCase, UnknownRecord, UnreadableRecord
from preservation.records.capture import CaptureRecord
from preservation.records.case import Assessment, Case, CaseDocument, Inquiry, StatusPolicyRecord
from preservation.records.post import CapturePosts
from preservation.records.run_report import RunReport
from preservation.records.step import VerificationStep
from preservation.store import layout
from preservation.store.layout import check_id
from preservation.store.store_core import StoreCore


class RecordReads(StoreCore):
    # ------------------------------------------------------------ cases and their records

    def has_case(self, case_id: str) -> bool:
        return self.exists(layout.case_key(case_id))

    def case(self, case_id: str) -> Case:
        key = layout.case_key(case_id)
        if not self.exists(key):
            raise UnknownCase(f"case {case_id!r} does not exist; create it with "
                              f"`bearwitness case new {case_id} --title …`")
        return self.document(Case, key)

    def cases(self) -> list[Case]:
        return [self.document(Case, key) for key in self.keys("cases/", suffix="/case.json")]

    def case_documents(self, case_id: str) -> list[CaseDocument]:
        found = self._documents(CaseDocument, layout.case_records_prefix("documents", case_id))
        return sorted(found, key=lambda d: (d.added_at, d.document_id))

    def inquiries(self, case_id: str) -> list[Inquiry]:
        found = self._documents(Inquiry, layout.case_records_prefix("inquiries", case_id))
        return sorted(found, key=lambda d: (d.at, d.to_json()))

    def inquiry(self, case_id: str, inquiry_id: str) -> Inquiry:
        key = layout.case_record_key("inquiries", case_id, inquiry_id)
        if not self.exists(key):
            raise UnknownRecord(f"no inquiry {inquiry_id!r} in case {case_id!r} (see "
                                f"`bearwitness inquiry list --case {case_id}`)")
        return self.document(Inquiry, key)

    def assessments(self, case_id: str) -> list[Assessment]:
        found = self._documents(Assessment, layout.case_records_prefix("assessments", case_id))
        return sorted(found, key=lambda d: (d.at, d.to_json()))

    def policies(self, case_id: str) -> list[StatusPolicyRecord]:
        return self._documents(StatusPolicyRecord,
                               layout.case_records_prefix("policies", case_id))

    # ------------------------------------------------------------ captures

    def has_capture_record(self, case_id: str, capture_id: str) -> bool:
        return self.exists(layout.capture_record_key(case_id, capture_id))

    def capture_record(self, case_id: str, capture_id: str) -> CaptureRecord:
        key = layout.capture_record_key(case_id, capture_id)
        if not self.exists(key):
            raise UnknownRecord(f"no capture {capture_id!r} in case {case_id!r}")
        return self.document(CaptureRecord, key)

    def capture_record_keys(self, case_id: str | None = None) -> list[str]:
        return self.keys(layout.capture_records_prefix(case_id), suffix=".json")

    def capture_records(self, case_id: str | None = None) -> Iterator[CaptureRecord]:
        """Every capture record (of one case), in key order; one read at a time."""
        for key in self.capture_record_keys(case_id):
            yield self.document(CaptureRecord, key)

    def find_capture(self, capture_id: str) -> CaptureRecord | None:
        check_id("capture id", capture_id)
        for case in self.cases():
            if self.has_capture_record(case.case_id, capture_id):
                return self.capture_record(case.case_id, capture_id)
        return None

    def posts(self, record: CaptureRecord) -> CapturePosts | None:
        """The posts read from a capture's WARC, when its URL was a platform's post."""
        if not record.posts:
            return None
        return self.document(CapturePosts, record.posts)

    def wacz_key(self, capture_id: str) -> str | None:
        """The WACZ of a capture, found by its id alone (None when there is none)."""
        check_id("capture id", capture_id)
        for case in self.cases():
            key = layout.wacz_key(case.case_id, capture_id)
            if self.exists(key):
                return key
        return None

    def steps(self, case_id: str, capture_id: str) -> list[VerificationStep]:
        """Every step recorded on the items of one capture, oldest first."""
        found = self._documents(VerificationStep, layout.steps_prefix(case_id, capture_id))
        return sorted(found, key=lambda s: (s.at, s.step_id))

    # ------------------------------------------------------------ analysis of working copies

    def analyses(self, sha256: str, working_copy: str | None = None
                 ) -> dict[str, dict[str, Any]]:
        """analyser → the analysis document stored for a working copy (`working_copy`: its
        key, which says where an encrypted case keeps its analyses)."""
        found = {}
        for key in self.keys(layout.analysis_prefix_for(working_copy, sha256), suffix=".json"):
            name = key.rsplit("/", 1)[-1].removesuffix(".json")
            try:
                found[name] = json.loads(self.read_bytes(key))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return found

    def analysis(self, sha256: str, analyser: str,
                 working_copy: str | None = None) -> dict[str, Any] | None:
        """The analysis of a working copy by one analyser, or None when there is none."""
        key = layout.analysis_key_for(working_copy, sha256, analyser)
        if not self.exists(key):
            return None
        try:
            document: dict[str, Any] = json.loads(self.read_bytes(key))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return document

    def working_copy_keys(self) -> list[str]:
        """Every working copy: the shared ones and encrypted cases' own."""
        own = [k for k in self.keys("cases/") if k.split("/")[2:3] == ["work"]]
        return sorted(self.keys("work/sha256/") + own)

    # ------------------------------------------------------------ runs and their proofs

    def run_report(self, run_id: str) -> RunReport:
        return self.document(RunReport, layout.run_report_key(run_id))

    def manifest_run_ids(self) -> list[str]:
        return [key.rsplit("/", 1)[-1].removesuffix(".json")
                for key in self.keys("manifests/", suffix=".json")]
