"""Commands of the verification and reporting phases, and of the phases before collection:
`verify add|list|status|types|policy`, `inquiry log|list`, `assess`, `report`.

Each command writes its documents to the evidence store with their own custody segment, then
lands what changed in the catalog (so `bearwitness sql` sees it at once)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml

from collectors.errors import InvalidStep, UsageError
from flows.application import investigation, verification
from flows.application.environment import resolve_home
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.output import add_format_option, listing
from preservation.investigation.inquiries import DECISIONS
from preservation.records.step import VerificationStep
from verification.steps.status import describe_policy
from verification.steps.step_types import STEP_TYPES, describe_types

EXIT_OK = 0

STEP_COLUMNS = ("step_id", "at", "step_type", "analyst", "automated", "result", "confidence",
                "summary", "supersedes", "reason", "superseded_by")
INQUIRY_COLUMNS = ("inquiry_id", "at", "investigator", "persona", "platform", "query", "note")


def register(commands: Commands) -> None:
    _register_verify(commands)
    _register_inquiry(commands)
    assess = commands.add_parser("assess", help=command_help("assess"))
    assess.add_argument("url", metavar="URL", help="the URL assessed")
    assess.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                        help="the case it is assessed for")
    assess.add_argument("--decision", required=True, choices=DECISIONS,
                        help="collect it, or skip it (skips are kept too)")
    assess.add_argument("--reason", required=True, help="why")
    add_actor_option(assess, "who decides", alias="--assessor")
    assess.add_argument("--discovered-via", metavar="INQUIRY_ID",
                        help="the logged inquiry that found the URL")
    assess.set_defaults(handler=assess_url)
    report = commands.add_parser("report", help=command_help("report"))
    report.add_argument("item_id", metavar="ITEM_ID", help="the item reported on")
    report.add_argument("--out", type=Path, metavar="FILE.html", help="also write it here")
    add_actor_option(report, "who makes the report")
    report.set_defaults(handler=report_item)


def _register_verify(commands: Commands) -> None:
    verify = commands.add_parser("verify", help=command_help("verify"))
    actions = verify.add_subparsers(dest="verify_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="record a verification step on an item")
    add.add_argument("item_id", metavar="ITEM_ID", help="the item the step is about")
    add.add_argument("--type", required=True, dest="step_type", choices=list(STEP_TYPES),
                     help="the step's type (`bearwitness verify types` lists each one's "
                          "fields)")
    add_actor_option(add, "who did the step", alias="--analyst",
                     default=os.environ.get("BEARWITNESS_ANALYST"),
                     default_help="$BEARWITNESS_ANALYST; a name is required")
    add.add_argument("--file", type=Path, help="YAML or JSON file with the step's fields at "
                                               "the top level")
    add.add_argument("--sha256", help="sha256 of the item's bytes the analyst worked on")
    add.add_argument("--input", action="append", default=[], metavar="ITEM_ID=SHA256",
                     help="another item examined (repeatable)")
    for name, text in (("method", "how the analyst worked"), ("findings", "what was found"),
                       ("reviewer", "who reviewed this step"),
                       ("supersedes", "the step id this step corrects (with --reason)"),
                       ("reason", "why it corrects that step")):
        add.add_argument(f"--{name}", help=text,
                         metavar="STEP_ID" if name == "supersedes" else "TEXT")
    add.add_argument("--result", choices=["supports", "contradicts", "inconclusive"],
                     help="what the step's findings do to the item's claim")
    add.add_argument("--confidence", choices=["low", "medium", "high"],
                     help="how sure the analyst is of the result")
    add.add_argument("--tool", action="append", default=[], metavar="NAME=VERSION",
                     help="a tool used (repeatable)")
    add.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="any other field, the value read as YAML (repeatable), e.g. lat=36.2")
    add.set_defaults(handler=verify_add)
    listing_parser = actions.add_parser("list", help="list an item's verification steps")
    listing_parser.add_argument("item_id", metavar="ITEM_ID", help="the item")
    add_format_option(listing_parser)
    listing_parser.set_defaults(handler=verify_list)
    status = actions.add_parser("status", help="an item's status and what is missing")
    status.add_argument("item_id", metavar="ITEM_ID", help="the item")
    status.set_defaults(handler=verify_status)
    actions.add_parser("types", help="describe each step type and its fields") \
        .set_defaults(handler=lambda a: print(describe_types()) or EXIT_OK)
    policy = actions.add_parser("policy", help="show or set a case's status policy")
    policy.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                        help="the case")
    policy.add_argument("--file", type=Path, help="YAML policy to record (see README); without "
                        "it, the policy in force is shown")
    add_actor_option(policy, "who sets it")
    policy.set_defaults(handler=verify_policy)


def _register_inquiry(commands: Commands) -> None:
    inquiry = commands.add_parser("inquiry", help=command_help("inquiry"))
    actions = inquiry.add_subparsers(dest="inquiry_command", required=True, metavar="ACTION")
    log = actions.add_parser("log", help="record a search: query, platform, who, persona")
    log.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                     help="the case the search is for")
    log.add_argument("--query", required=True, help="what was searched for, as typed")
    log.add_argument("--platform", required=True, help="platform or search engine")
    add_actor_option(log, "who searched", alias="--investigator")
    log.add_argument("--persona", help="the virtual identity used, if any")
    log.add_argument("--note", help="anything else worth keeping about the search")
    log.set_defaults(handler=inquiry_log)
    listing_parser = actions.add_parser("list", help="list a case's logged searches")
    listing_parser.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                                help="the case")
    add_format_option(listing_parser)
    listing_parser.set_defaults(handler=inquiry_list)


# ---------------------------------------------------------------- verify


def verify_add(args: argparse.Namespace) -> int:
    if not args.by:
        raise InvalidStep("analyst: who did the step is required (--by NAME or "
                          "$BEARWITNESS_ANALYST)")
    recorded = verification.add_step(resolve_home(args.home), args.item_id, args.step_type,
                                     step_fields_from(args), by=args.by)
    step, status = recorded.step, recorded.status
    print(f"step {step.step_id} recorded: {step.step_type} on item {step.item_id} "
          f"by {step.analyst} ({step.fields['result']}, {step.fields['confidence']})")
    print(f"item status: {status.status}"
          + (f" (missing: {', '.join(status.missing)})" if status.missing else ""))
    return EXIT_OK


def step_fields_from(args: argparse.Namespace) -> dict[str, Any]:
    """The step's fields: the file's, then the flags given on the command line."""
    fields = _read_step_file(args.file) if args.file else {}
    for name in ("method", "findings", "result", "confidence", "reviewer", "supersedes",
                 "reason"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.tool:
        fields["tools"] = [dict(zip(("name", "version"), _pair(t, "--tool NAME=VERSION"),
                                    strict=True)) for t in args.tool]
    inputs = list(fields.get("inputs") or [])
    if args.sha256:
        inputs.append({"item_id": args.item_id, "sha256": args.sha256})
    inputs += [dict(zip(("item_id", "sha256"), _pair(i, "--input ITEM_ID=SHA256"), strict=True))
               for i in args.input]
    if inputs:
        fields["inputs"] = inputs
    for assignment in args.set:
        name, value = _pair(assignment, "--set FIELD=VALUE")
        fields[name] = yaml.safe_load(value) if value else value
    return fields


def _read_step_file(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read step file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidStep(f"step file {path} is not valid YAML or JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidStep(f"step file {path}: the step's fields must be a mapping at the top "
                          "level")
    return document


def _pair(text: str, form: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UsageError(f"expected {form}, got {text!r}")
    return name.strip(), value.strip()


def verify_list(args: argparse.Namespace) -> int:
    found = verification.steps_of(resolve_home(args.home), args.item_id)
    rows = [(step.step_id, step.at, step.step_type, step.analyst, step.automated,
             step.fields["result"], step.fields["confidence"], _summary(step), step.supersedes,
             step.fields.get("reason"), found.superseded_by.get(step.step_id))
            for step in found.steps]
    print(listing(STEP_COLUMNS, rows, args.format))
    return EXIT_OK


def _summary(step: VerificationStep) -> str:
    fields = step.fields
    if step.step_type == "geolocation":
        return f"{fields['lat']}, {fields['lon']} ±{fields['uncertainty_m']} m"
    if step.step_type == "chronolocation":
        return f"{fields['window_start']} – {fields['window_end']}"
    if step.step_type == "peer_review":
        return f"{fields['outcome']}: {', '.join(fields['reviews'])}"
    if step.automated:
        flagged = [c["check"] for c in fields.get("checks", []) if c["flagged"]]
        return "flagged: " + (", ".join(flagged) or "nothing")
    return " ".join(fields["findings"].split())[:60]


def verify_status(args: argparse.Namespace) -> int:
    status, policy = verification.status_of(resolve_home(args.home), args.item_id)
    print(f"item {args.item_id}: {status.status}")
    print(describe_policy(policy))
    for line in status.explanation:
        print(f"  {line}")
    return EXIT_OK


def verify_policy(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    if args.file:
        try:
            document = yaml.safe_load(args.file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"cannot read policy file {args.file}: {exc}") from exc
        if not isinstance(document, dict):
            raise InvalidStep(f"policy file {args.file}: expected a mapping (require: …)")
        policy = verification.set_policy(home, args.case_id, document, by=args.by)
    else:
        policy = verification.policy_of(home, args.case_id)
    print(describe_policy(policy))
    return EXIT_OK


# ---------------------------------------------------------------- inquiry, assess, report


def inquiry_log(args: argparse.Namespace) -> int:
    inquiry = investigation.log_inquiry(resolve_home(args.home), args.case_id, args.query,
                                        args.platform, by=args.by,
                                        persona=args.persona, note=args.note)
    print(f"inquiry {inquiry.inquiry_id} logged ({inquiry.at}); capture what it found "
          f"with --discovered-via {inquiry.inquiry_id}")
    return EXIT_OK


def inquiry_list(args: argparse.Namespace) -> int:
    rows = [(i.inquiry_id, i.at, i.investigator, i.persona, i.platform, i.query, i.note)
            for i in investigation.list_inquiries(resolve_home(args.home), args.case_id)]
    print(listing(INQUIRY_COLUMNS, rows, args.format))
    return EXIT_OK


def assess_url(args: argparse.Namespace) -> int:
    assessment = investigation.assess(resolve_home(args.home), args.case_id, args.url,
                                      args.decision, args.reason, by=args.by,
                                      discovered_via=args.discovered_via)
    print(f"assessment {assessment.assessment_id}: {args.decision} {args.url}")
    return EXIT_OK


def report_item(args: argparse.Namespace) -> int:
    stored = verification.write_report(resolve_home(args.home), args.item_id, by=args.by,
                                       out=args.out)
    print(f"report {stored.report_id}: {stored.path} (sha256 {stored.sha256})")
    if args.out:
        print(f"written to {args.out}")
    return EXIT_OK
