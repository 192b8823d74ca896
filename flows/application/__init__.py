"""The application layer: what bearwitness does, as plain Python over a data home.

Each use case — open a case, capture URLs, analyse, land, verify, audit, export, watch — is a
function here that the CLI (flows/cli/), the Prefect flows (flows/orchestration/) and the
tests call alike. Nothing here imports Prefect or prints: progress goes to a logger the
caller passes, results come back as typed records. It lives under flows/ because it is the
one layer allowed to use every other (collectors → preservation → verification → catalog).
"""
