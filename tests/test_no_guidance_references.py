"""The project stands alone: nothing in it points at the developers' guidance files, which are
not part of the product (a design note the project needs lives in its own docs/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_file_refers_to_guidance_outside_the_project():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    names = ("DESIGN" + ".md", "STYLE" + ".md")  # spelled apart so this file does not match
    hits = [f for f in files if (ROOT / f).is_file() and (ROOT / f).suffix in (".py", ".md", ".toml", ".sh", ".txt")
            and any(n in (ROOT / f).read_text(errors="replace") for n in names)]
    assert not hits, hits
