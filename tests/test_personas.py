"""Personas: a logged-in session (a Netscape cookie jar) kept outside the evidence store,
owner-only; its cookie reaches the platform and only its domains; the secret is in no log, no
capture record, no catalog row and no export bag (the WARC keeps digests of session values);
the capture record names the persona and its account; a logged-out answer is flagged."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collectors.browser.session import browser_available
from flows.application.environment import open_store
from flows.application.integrity import run_audit, run_export
from flows.application.personas import list_personas, persona_sessions
from flows.cli.main import main
from platform_capture import CASE, capture_post
from platform_internet import PlatformInternet, fixture, served_files

JPEG, _ = (data for _, data in served_files())
SESSION = "8412377%3AsEcReTsEsSiOnToKeN0123456789"
RENEWED = "8412377%3ArEnEwEdSeSsIoN9876543210"
JAR = ("# Netscape HTTP Cookie File\n"
       "# exported for the test\n\n"
       f".instagram.com\tTRUE\t/\tTRUE\t4102444800\tsessionid\t{SESSION}\n"
       ".instagram.com\tTRUE\t/\tTRUE\t4102444800\tds_user_id\t8412377\n"
       "#HttpOnly_.instagram.com\tTRUE\t/\tTRUE\t4102444800\tcsrftoken\tcSrFtOkEnVaLuE42\n"
       ".example.org\tTRUE\t/\tFALSE\t4102444800\tother\tnot-for-instagram\n")


def _jar(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text(JAR)
    return path


def _add(home: Path, jar: Path, *extra: str) -> int:
    return main(["--home", str(home), "persona", "add", "desk", "--cookies", str(jar),
                 "--domain", "instagram.com", "--account", "@research_desk", *extra])


def _instagram(internet: PlatformInternet, code: str, embed: bytes) -> str:
    url = f"https://www.instagram.com/p/{code}/"
    internet.answer(url, fixture("instagram", "login.html"),
                    headers=(("Set-Cookie", f"sessionid={RENEWED}; Domain=.instagram.com; "
                                            "Path=/; Secure; HttpOnly"),))
    internet.answer(f"https://www.instagram.com/p/{code}/embed/captioned/", embed)
    internet.answer("https://scontent.cdninstagram.com/v/t51.29350-15/embedded-photo.jpg",
                    JPEG, content_type="image/jpeg")
    return url


def _everything(root: Path) -> bytes:
    found = b""
    for directory, _, names in os.walk(root):
        for name in names:
            data = (Path(directory) / name).read_bytes()
            found += gzip.decompress(data) if name.endswith(".gz") else data
    return found


def test_a_persona_is_kept_owner_only_and_listed_without_secrets(data_home: Path,
                                                                tmp_path: Path, capsys) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    folder = data_home / "personas" / "desk"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "cookies.txt").stat().st_mode & 0o777 == 0o600
    assert not (data_home / "store").exists() or "personas" not in os.listdir(data_home / "store")
    assert main(["--home", str(data_home), "persona", "list", "--format", "tsv"]) == 0
    out = capsys.readouterr().out
    assert "desk\t@research_desk\tinstagram.com\tplatforms\t3" in out  # example.org's is not kept
    assert SESSION not in out and "cSrFtOkEn" not in out
    # A jar another user can read is refused, never used; and so is a file that is no jar.
    os.chmod(folder / "cookies.txt", 0o644)
    assert main(["--home", str(data_home), "case", "new", CASE, "--title", "t"]) == 0
    assert main(["--home", str(data_home), "capture", "--case", CASE,
                 "https://www.instagram.com/p/C1xYzAbCdEf/"]) == 2
    assert "chmod 600" in capsys.readouterr().err
    not_a_jar = tmp_path / "notes.txt"
    not_a_jar.write_text(f"sessionid={SESSION}\n")
    assert main(["--home", str(data_home), "persona", "add", "other", "--cookies",
                 str(not_a_jar), "--domain", "instagram.com"]) == 2
    assert SESSION not in capsys.readouterr().err  # the message names the file, not its lines


def test_the_session_reaches_its_platform_and_is_kept_nowhere(
        data_home: Path, platform_internet: PlatformInternet, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    url = _instagram(platform_internet, "C1pErSoNa1", fixture("instagram",
                                                              "embed-captioned.html"))
    before = len(platform_internet.requests())
    with caplog.at_level(logging.DEBUG):
        captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    asked = platform_internet.requests()[before:]
    to_instagram = [s for s in asked if s.host == "www.instagram.com"]
    assert to_instagram and all(f"sessionid={SESSION}" in s.headers.get("Cookie", "")
                                for s in to_instagram)
    assert all("Cookie" not in s.headers for s in asked if s.host != "www.instagram.com")
    # The record names who, never the secret.
    assert captured.record["persona"] == "desk"
    assert captured.record["persona_account"] == "@research_desk"
    assert set(captured.record["redacted_headers"]) == {"Cookie", "Authorization", "Set-Cookie"}
    # The WARC keeps each value's digest, and the renewed session too.
    warc = captured.warc_text()
    digest = hashlib.sha256(SESSION.encode()).hexdigest()
    assert f"sessionid=<redacted sha256:{digest}>".encode() in warc
    assert f"sessionid=<redacted sha256:{hashlib.sha256(RENEWED.encode()).hexdigest()}>" \
           "; Domain=.instagram.com".encode() in warc
    for secret in (SESSION, RENEWED, "cSrFtOkEnVaLuE42"):
        assert secret.encode() not in _everything(data_home / "store"), secret
        assert secret.encode() not in _everything(data_home / "catalog"), secret
        assert secret not in caplog.text
    # The WARC still reads back with valid digests (the record holds what was recorded).
    assert run_audit(data_home, open_store(data_home), "tester").ok
    bag = run_export(data_home, open_store(data_home), "tester", CASE, tmp_path / "bag")
    assert SESSION.encode() not in _everything(bag.path)
    assert RENEWED.encode() not in _everything(bag.path)
    assert (bag.path / "data" / "posts").is_dir()
    check = subprocess.run([sys.executable, str(bag.path / "verify_bag.py"), str(bag.path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_logged_out_answer_is_flagged(data_home: Path, platform_internet: PlatformInternet,
                                        tmp_path: Path) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    url = _instagram(platform_internet, "C1lOgGeDoUt", fixture("instagram", "login.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "partial" and captured.record["failure"] == "LoginWall"
    assert "the session of persona 'desk' was not accepted" in captured.record["error"]
    assert captured.sql("SELECT state FROM source_history") == [("login_wall",)]


@pytest.mark.skipif(not browser_available(), reason="needs Chromium and Playwright")
def test_chromium_sends_the_persona_session(data_home: Path,
                                            platform_internet: PlatformInternet,
                                            tmp_path: Path) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    url = _instagram(platform_internet, "C1bRoWsEr1", fixture("instagram",
                                                              "embed-captioned.html"))
    before = len(platform_internet.requests())
    captured = capture_post(data_home, platform_internet, url, mode="browser")
    assert captured.status == "complete", captured.record["error"]
    page = next(s for s in platform_internet.requests()[before:]
                if s.path == "/p/C1bRoWsEr1/" and "Mozilla" in s.headers.get("User-Agent", ""))
    assert f"sessionid={SESSION}" in page.headers.get("Cookie", "")
    assert SESSION.encode() not in _everything(data_home / "store")


def test_yt_dlp_sends_the_session_from_a_copy_that_does_not_outlive_it(
        data_home: Path, platform_internet: PlatformInternet, tmp_path: Path) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    _, mp4 = (data for _, data in served_files())
    # A page with a video: a URL that is itself a media file is kept whole without yt-dlp.
    media = "https://www.instagram.com/static/clip-for-yt-dlp.html"
    platform_internet.answer("https://www.instagram.com/static/clip-for-yt-dlp.mp4", mp4,
                             content_type="video/mp4")
    platform_internet.answer(media, b'<html><body><video src="clip-for-yt-dlp.mp4" controls>'
                             b'</video></body></html>')
    before = len(platform_internet.requests())
    captured = capture_post(data_home, platform_internet, media, media="on")
    assert "yt-dlp" in captured.record["tools"], captured.record["error"]
    fetched = [s for s in platform_internet.requests()[before:] if s.path.endswith(".mp4")]
    assert fetched  # yt-dlp's
    assert all(f"sessionid={SESSION}" in s.headers.get("Cookie", "") for s in fetched)
    in_use = data_home / "personas" / ".in-use"
    assert in_use.is_dir() and list(in_use.iterdir()) == []  # made there, and removed
    assert SESSION.encode() not in _everything(data_home / "store")


def test_a_copy_left_by_a_killed_capture_is_removed_by_the_next(data_home: Path,
                                                                 tmp_path: Path) -> None:
    assert _add(data_home, _jar(tmp_path), "--case", CASE) == 0
    # A process killed (SIGKILL: no clean-up runs) while yt-dlp's copy of the jar exists.
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, signal, sys\n"
         "from pathlib import Path\n"
         "from flows.application.personas import persona_sessions\n"
         f"sessions = persona_sessions(Path({str(data_home)!r}), {CASE!r})\n"
         "with sessions.private_jar() as jar:\n"
         "    print(jar, flush=True)\n"
         "    os.kill(os.getpid(), signal.SIGKILL)\n"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert killed.returncode == -9, killed.stderr
    left = Path(killed.stdout.strip())
    assert left.is_file() and SESSION in left.read_text()
    assert (data_home / "personas" / ".in-use") in left.parents  # not the shared /tmp
    assert left.stat().st_mode & 0o077 == 0 and left.parent.stat().st_mode & 0o077 == 0
    assert not str(left).startswith(str(data_home / "store"))
    assert [i.persona.name for i in list_personas(data_home)] == ["desk"]  # not a persona
    with persona_sessions(data_home, CASE).private_jar() as jar:
        assert jar is not None and jar.is_file()
        assert not left.parent.exists()  # the dead process's copy is gone
    assert not jar.exists()
