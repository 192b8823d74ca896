"""What a segment is: the rows derived from one group of store documents, landed (and replaced)
as a whole. Its id says which documents, and its family how often it is replaced and how large
its parts may grow: evidence rows never change once landed; verification rows are landed again
whenever a step or a policy is recorded.

Ids: `<capture_id>` (a capture's evidence: the capture, its items, their metadata and hashes),
`verification-<capture_id>` (the steps, findings and status of its items), `case-<case_id>`,
`records-<case_id>` (a case's inquiries, assessments and documents), `custody-<stem>` (a
custody-log segment). Kept apart from catalog/schema.py so that reading the catalog never
needs pyarrow.
"""

from __future__ import annotations

SEGMENT_COLUMN = "_segment"  # hidden: every part's rows carry the segment they belong to

EVIDENCE, VERIFICATION, CUSTODY, CASE_RECORDS, EMPTY = (
    "evidence", "verification", "custody", "case", "empty")
VERIFICATION_PREFIX, CUSTODY_PREFIX = "verification-", "custody-"
CASE_PREFIXES = ("case-", "records-")
EMPTY_PREFIX = "_empty"
# The tables a capture's verification segment holds (the rest of a capture is its evidence).
VERIFICATION_TABLES = ("verification_steps", "geolocations", "chronolocations",
                       "automated_findings", "item_status")


def family_of(segment_id: str) -> str:
    if segment_id.startswith(VERIFICATION_PREFIX):
        return VERIFICATION
    if segment_id.startswith(CUSTODY_PREFIX):
        return CUSTODY
    if segment_id.startswith(CASE_PREFIXES):
        return CASE_RECORDS
    if segment_id.startswith(EMPTY_PREFIX):
        return EMPTY
    return EVIDENCE
