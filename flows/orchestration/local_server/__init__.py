"""The local server of a data home: a long-lived Prefect API server and a warm runner, started
by the CLI on first use and reused by every later command (docs/design.md decision 6).

Starting a temporary Prefect server and importing Prefect cost an ad-hoc capture most of its
time (docs/design.md#measured-prefect). So the first `bearwitness capture` of a data home
starts, in the background:

- the **Prefect server** (`prefect server start` on a free port of 127.0.0.1, its database in
  `<home>/server/prefect/`), which records every run as before and keeps running;
- the **runner**, a process that has imported the flows once and forks a child per command;
  the child gets the command's stdin, stdout and stderr (passed over a Unix socket), its
  working directory and environment, runs the flow against the server and sends back its
  result.

Their addresses and process ids are in `<home>/server/server.json` (state.py). Each command
checks them (status.py: the process is alive, is the one recorded, answers) and replaces what
is stale or dead (lifecycle.py); the code the runner runs is checked against the code on disk,
so an upgrade is picked up. The CLI's side — client.py (where a flow run goes), status.py,
lifecycle.py, jobs.py (handing a job to the runner), connection.py — never imports Prefect.
"""
