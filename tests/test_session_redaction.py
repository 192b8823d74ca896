"""What a WARC keeps of a session (collectors/http/redaction.py), on a real exchange: the
server gets the values, the recorded request and (with a persona) response hold their
digests, every other byte as sent and received."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from collectors.errors import AddressRefused
from collectors.http.client import HttpClient
from collectors.http.redaction import redact_request
from collectors.network.addresses import AddressPolicy, parse_target
from platform_internet import PlatformInternet


def _digest(value: str) -> str:
    return f"<redacted sha256:{hashlib.sha256(value.encode()).hexdigest()}>"


@pytest.mark.parametrize("persona", [False, True])
def test_the_server_gets_the_session_and_the_record_its_digests(
        tmp_path: Path, platform_internet: PlatformInternet, persona: bool) -> None:
    platform_internet.answer("https://www.reddit.com/api/me.json", b'{"name": "desk"}',
                             content_type="application/json",
                             headers=(("Set-Cookie", "token_v2=rEnEwEd; Path=/; Secure"),))
    client = HttpClient(AddressPolicy(allow_private=True, resolver=platform_internet.resolver),
                        tmp_path, ca_file=platform_internet.ca_file,
                        redact_set_cookie=persona)
    before = len(platform_internet.requests())
    exchange = client.send("GET", "https://www.reddit.com/api/me.json",
                           [("Authorization", "Bearer eyJsEcReT"),
                            ("Cookie", "token_v2=sEsSiOn; reddit_session=aBc"),
                            ("X-Other", "kept")])
    (seen,) = platform_internet.requests()[before:]
    assert seen.headers["Authorization"] == "Bearer eyJsEcReT"
    assert seen.headers["Cookie"] == "token_v2=sEsSiOn; reddit_session=aBc"
    recorded = exchange.request.decode()
    assert f"Authorization: Bearer {_digest('eyJsEcReT')}" in recorded
    assert f"Cookie: token_v2={_digest('sEsSiOn')}; reddit_session={_digest('aBc')}" in recorded
    assert "X-Other: kept" in recorded and "sEsSiOn" not in recorded
    assert exchange.response is not None
    head = exchange.response.head.decode()
    if persona:
        assert f"Set-Cookie: token_v2={_digest('rEnEwEd')}; Path=/; Secure" in head
        assert "rEnEwEd" not in head
    else:
        assert "Set-Cookie: token_v2=rEnEwEd; Path=/; Secure" in head
    # The block digest is over what the record holds: head as recorded, then the body.
    body = exchange.response.raw_body_path.read_bytes()
    assert exchange.response.block_sha256 == hashlib.sha256(exchange.response.head
                                                            + body).hexdigest()


def test_a_request_without_secrets_is_kept_byte_for_byte() -> None:
    request = b"GET / HTTP/1.1\r\nHost: t.me\r\nUser-Agent: x\r\n\r\n"
    assert redact_request(request) is request
    assert redact_request(b"not http") == b"not http"


@pytest.mark.parametrize(("url", "refused"), [
    ("https://localhost/", True), ("https://printer.local/", True), ("https://intranet/", True),
    ("https://10.0.0.8/", True), ("https://[::1]/", True), ("https://db.internal/", True),
    ("https://t.me/", False), ("https://8.8.8.8/", False),
    ("https://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion/", False)])
def test_names_a_remote_resolver_will_look_up_are_checked_without_a_lookup(
        url: str, refused: bool) -> None:
    policy = AddressPolicy(resolver=lambda host, port: pytest.fail("no lookup here"))
    if refused:
        with pytest.raises(AddressRefused):
            policy.admit_name(parse_target(url))
    else:
        policy.admit_name(parse_target(url))
