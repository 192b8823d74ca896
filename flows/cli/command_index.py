"""Every command: the module that defines it and its one line of help. Enough to list all
commands (`bearwitness --help`) and to find the one being run without importing any other, so
that a command loads only what it needs (`bearwitness sql "SELECT 1"` needs DuckDB, not the
capture machinery). Each module's `register(commands)` adds the full parsers of its commands
with these help lines."""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "case": ("flows.cli.core_commands", "create and list cases (investigations)"),
    "capture": ("flows.cli.capture_command", "capture URLs into a case as WARC evidence"),
    "sql": ("flows.cli.catalog_commands", "run read-only SQL on the catalog"),
    "catalog": ("flows.cli.catalog_commands", "maintain the catalog: rebuild, compact, export"),
    "search": ("flows.cli.catalog_commands", "full-text search over captured pages, titles, "
               "media descriptions and subtitles"),
    "audit": ("flows.cli.integrity_commands", "re-hash every stored object, check the custody "
              "log and timestamps; exit 0 only when everything holds"),
    "repair": ("flows.cli.integrity_commands", "after a crash: cut interrupted WARCs back to "
               "their last complete record and set aside what dead writers left, into "
               "quarantine/"),
    "timestamp": ("flows.cli.integrity_commands", "RFC 3161 timestamps over the manifests of "
                  "runs not yet timestamped"),
    "export": ("flows.cli.integrity_commands", "a BagIt bag of a case's evidence, with an "
               "offline verifier, for a prosecutor or partner"),
    "watch": ("flows.cli.watch_commands", "watch lists: sources recaptured on a schedule"),
    "replay": ("flows.cli.replay_commands", "serve a capture locally (pywb, from its WARC) to "
               "look at"),
    "wacz": ("flows.cli.replay_commands", "make a capture's WACZ package (for replay tools "
             "such as ReplayWeb.page, or to hand out), recorded in the custody log"),
    "assess": ("flows.cli.verify_commands", "record a preliminary assessment of a URL: collect "
               "it or not, and why"),
    "report": ("flows.cli.verify_commands", "write an item's evidence report (HTML)"),
    "verify": ("flows.cli.verify_commands", "analysts' verification steps and item status"),
    "inquiry": ("flows.cli.verify_commands", "the online inquiry log: searches run"),
    "keys": ("flows.cli.key_commands", "key holders of an encrypted case"),
    "route": ("flows.cli.network_commands", "configure routes: direct, an HTTP proxy, or "
              "SOCKS5 (e.g. Tor), per case or per domain"),
    "persona": ("flows.cli.network_commands", "keep logged-in sessions (cookie jars) outside "
                "the evidence store, for captures that need a login"),
    "demo": ("flows.cli.demo_command", "capture the bundled demo site end to end"),
    "server": ("flows.cli.server_commands", "the data home's local Prefect server, which "
               "capture commands start on first use and reuse"),
}


def command_help(name: str) -> str:
    return COMMANDS[name][1]
