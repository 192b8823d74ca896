"""Where each kind of document lives in the evidence store: keys, as store-relative paths.

    cases/<case_id>/case.json                     the case, created before any collection
    warcs/<case_id>/<capture_id>.warc.gz          evidentiary copies (read-only once closed)
    wacz/<case_id>/<capture_id>.wacz              each capture packaged for replay
    captures/<case_id>/<capture_id>.json          capture record: collection data, items, hashes
    posts/<case_id>/<capture_id>.json             a platform's posts, read from the WARC
    custody/<segment>.jsonl                       custody log, one segment per run or writer
    work/sha256/ab/cd/<hex>                       working copies, named by content hash
    analysis/ab/<hex>/<analyser>.json             tool output over a working copy
    verification/<case_id>/<capture_id>/<step_id>.json   verification steps (append-only)
    {inquiries,assessments,policies}/<case_id>/<id>.json online inquiry log, preliminary
                                                  assessments, item status policies
    reports/<case_id>/<report_id>.html            evidence reports as handed out
    documents/<case_id>/<doc_id>.{json,*}         case documents: plan, risk and landscape
                                                  assessments
    manifests/<run_id>.json                       run manifest: hashes of what a run stored
    timestamps/<run_id>.tsr, .chain.pem           RFC 3161 token over it, TSA certificate chain
    quarantine/<repair_id>/…                      what `repair` set aside after a crash
    runs/<run_id>.json                            run report of every flow run
                                                  (docs/protocol.md rule 8)
    watch/<case_id>.yaml                          watch list of a case (plain, editable file)
    tmp/                                          spool files and locks of captures in progress
    cases/<case_id>/protection.json               retention and encryption chosen at opening
    cases/<case_id>/work/ab/cd/<hex>              working copies of an encrypted case (its own)
    cases/<case_id>/analysis/ab/<hex>/<analyser>.json   their analyses
    keys/<case_id>/<holder>.age, <holder>.json    the case key wrapped for each key holder
                                                  (never locked: crypto-shredding destroys it)

Everything outside tmp/, custody/, watch/ and keys/ is write-once. Every id is checked before it
becomes part of a key, so nothing from the web or a user ever chooses a path.
"""

from __future__ import annotations

import re

from collectors.errors import UsageError

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
CASE_RECORD_KINDS = ("inquiries", "assessments", "policies", "reports", "documents")
# Top-level folders that hold no evidence objects: checked as chains (custody), transient
# (tmp), or configuration an investigator edits (watch).
NOT_OBJECTS = ("custody", "tmp", "watch", "keys", "mirror")
# Folders whose second part is the case id: what an encrypted case's key covers.
CASE_FOLDERS = ("cases", "warcs", "wacz", "captures", "verification", "inquiries",
                "assessments", "policies", "reports", "documents")
# Never encrypted, even in an encrypted case: what is needed to know the case exists and how it
# is protected.
PLAIN_CASE_FILES = ("case.json", "protection.json")


def check_id(kind: str, value: str) -> str:
    if not _SAFE_ID.match(value or "") or ".." in value:
        raise UsageError(f"invalid {kind} {value!r}: use letters, digits, '.', '_' and '-' "
                         "(at most 80, starting with a letter or digit)")
    return value


def check_sha256(value: str) -> str:
    if not _HEX64.match(value or ""):
        raise UsageError(f"not a sha256 hex digest: {value!r}")
    return value


def case_key(case_id: str) -> str:
    return f"cases/{check_id('case id', case_id)}/case.json"


def protection_key(case_id: str) -> str:
    return f"cases/{check_id('case id', case_id)}/protection.json"


def key_prefix(case_id: str) -> str:
    return f"keys/{check_id('case id', case_id)}/"


def wrapped_key_key(case_id: str, holder: str) -> str:
    return f"{key_prefix(case_id)}{check_id('key holder', holder)}.age"


def key_holder_key(case_id: str, holder: str) -> str:
    return f"{key_prefix(case_id)}{check_id('key holder', holder)}.json"


def case_of_key(key: str) -> str | None:
    """The case an object belongs to by its key (None: shared or not a case's), looking
    through `quarantine/<repair_id>/` to the original key."""
    parts = key.split("/")
    if parts[0] == "quarantine" and len(parts) > 2:
        parts = parts[2:]
    if len(parts) > 2 and parts[0] in CASE_FOLDERS:
        return parts[1]
    return None


def sealed_working_copy_key(case_id: str, sha256: str) -> str:
    """The working copy of an encrypted case: its own, never shared with another case."""
    check_sha256(sha256)
    return f"cases/{check_id('case id', case_id)}/work/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def analysis_key_for(working_copy: str | None, sha256: str, analyser: str) -> str:
    """Where the analysis of a working copy lives: beside the case's own working copies for
    an encrypted case, else in the shared `analysis/` folder."""
    parts = (working_copy or "").split("/")
    if len(parts) > 3 and parts[0] == "cases" and parts[2] == "work":
        check_sha256(sha256)
        name = check_id("analyser", analyser)
        return f"cases/{parts[1]}/analysis/{sha256[:2]}/{sha256}/{name}.json"
    return analysis_key(sha256, analyser)


def analysis_prefix_for(working_copy: str | None, sha256: str) -> str:
    return analysis_key_for(working_copy, sha256, "x").removesuffix("x.json")


def warc_key(case_id: str, capture_id: str) -> str:
    return f"warcs/{check_id('case id', case_id)}/{check_id('capture id', capture_id)}.warc.gz"


def wacz_key(case_id: str, capture_id: str) -> str:
    return f"wacz/{check_id('case id', case_id)}/{check_id('capture id', capture_id)}.wacz"


def capture_record_key(case_id: str, capture_id: str) -> str:
    return f"captures/{check_id('case id', case_id)}/{check_id('capture id', capture_id)}.json"


def posts_key(case_id: str, capture_id: str) -> str:
    return f"posts/{check_id('case id', case_id)}/{check_id('capture id', capture_id)}.json"


def capture_records_prefix(case_id: str | None = None) -> str:
    return f"captures/{check_id('case id', case_id)}/" if case_id else "captures/"


def working_copy_key(sha256: str) -> str:
    check_sha256(sha256)
    return f"work/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def analysis_prefix(sha256: str) -> str:
    check_sha256(sha256)
    return f"analysis/{sha256[:2]}/{sha256}/"


def analysis_key(sha256: str, analyser: str) -> str:
    return f"{analysis_prefix(sha256)}{check_id('analyser', analyser)}.json"


def steps_prefix(case_id: str, capture_id: str) -> str:
    return f"verification/{check_id('case id', case_id)}/{check_id('capture id', capture_id)}/"


def step_key(case_id: str, capture_id: str, step_id: str) -> str:
    return f"{steps_prefix(case_id, capture_id)}{check_id('step id', step_id)}.json"


def case_records_prefix(kind: str, case_id: str) -> str:
    if kind not in CASE_RECORD_KINDS:
        raise UsageError(f"unknown kind of case record {kind!r}")
    return f"{kind}/{check_id('case id', case_id)}/"


def case_record_key(kind: str, case_id: str, record_id: str, suffix: str = ".json") -> str:
    """A case's write-once record of one `kind` (see CASE_RECORD_KINDS)."""
    return f"{case_records_prefix(kind, case_id)}{check_id('record id', record_id)}{suffix}"


def run_report_key(run_id: str) -> str:
    return f"runs/{check_id('run id', run_id)}.json"


def watch_list_key(case_id: str) -> str:
    return f"watch/{check_id('case id', case_id)}.yaml"


def manifest_key(run_id: str) -> str:
    return f"manifests/{check_id('run id', run_id)}.json"


def timestamp_token_key(run_id: str) -> str:
    return f"timestamps/{check_id('run id', run_id)}.tsr"


def timestamp_chain_key(run_id: str) -> str:
    return f"timestamps/{check_id('run id', run_id)}.chain.pem"


def quarantine_prefix(repair_id: str) -> str:
    return f"quarantine/{check_id('repair id', repair_id)}/"


def custody_segment_key(segment: str) -> str:
    return f"custody/{check_id('segment', segment)}.jsonl"

