"""The site of benchmarks/bench_speed.py: N pages, each with its HTML, one shared CSS, one
shared JS and five distinct 1920x1080 JPEGs (the site the speed issue's figures were measured
on), generated deterministically and served from its own process on 127.0.0.1.

The JPEGs are bench_spine's photo-like frames (a third with EXIF, a sixth with GPS), so the
ingest side sees what it sees there.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from benchmarks.bench_spine import ServerProcess, _default_signals, _write_images, image_name

IMAGES_PER_PAGE = 5

CSS = """body { font-family: sans-serif; margin: 2em auto; max-width: 60em; }
.gallery img { display: inline-block; margin: 4px; }
"""
JS = """document.addEventListener("DOMContentLoaded", function () {
  document.body.setAttribute("data-ready", "yes");
});
"""


def page_path(index: int) -> str:
    return f"pages/p{index:04d}.html"


def _page(index: int, pages: int) -> str:
    images = [f"../img/{image_name(index * IMAGES_PER_PAGE + k)}" for k in range(IMAGES_PER_PAGE)]
    tags = "\n".join(f'<img src="{src}" alt="photo {k}" width="480">'
                     for k, src in enumerate(images))
    nav = f'<a href="p{(index + 1) % pages:04d}.html">next</a>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report {index}</title>
<link rel="stylesheet" href="../css/site.css"><script src="../js/site.js"></script></head>
<body><h1>Report {index}</h1><nav>{nav}</nav>
<p>{"Witness statement about the market, the convoy and the checkpoint. " * 30}</p>
<div class="gallery">
{tags}
</div></body></html>
"""


def generate(root: Path, pages: int, *, seed: int = 13, procs: int = 2) -> int:
    """Write the site under `root`; returns the bytes of its images."""
    for folder in ("img", "pages", "css", "js"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    count = pages * IMAGES_PER_PAGE
    jobs = [(str(root / "img"), seed, list(range(i, min(count, i + 10))))
            for i in range(0, count, 10)]
    with multiprocessing.get_context("fork").Pool(procs, initializer=_default_signals) as pool:
        total = sum(pool.imap_unordered(_write_images, jobs))
    (root / "css" / "site.css").write_text(CSS)
    (root / "js" / "site.js").write_text(JS)
    for index in range(pages):
        (root / page_path(index)).write_text(_page(index, pages))
    return total


__all__ = ["ServerProcess", "generate", "page_path"]
