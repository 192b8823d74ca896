"""`bearwitness demo` end to end: its example queries print real results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.cli.demo_command import run_demo


@pytest.mark.usefixtures("prefect_harness")
def test_demo_prints_gps_near_duplicates_and_flagged_photos(capsys, data_home: Path) -> None:
    assert run_demo(data_home) == 0
    out = capsys.readouterr().out
    assert "catalog: 5 captures" in out
    flagged = out.split("Automated checks that flagged a photo", 1)[1]
    assert "/img/photo-checkpoint.jpg" in flagged and "editing_software" in flagged
    assert "long_before_publication" in flagged
    assert re.search(r"/img/photo-market-small\.jpg +near_duplicates +found", flagged)
