"""The documentation site builds with MkDocs in strict mode (broken links, missing pages,
docstrings mkdocstrings cannot render all fail), and the reference pages have content."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from hcekit.testing.requirements import missing

REPO = Path(__file__).resolve().parents[2]


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    absent = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python")
              if find_spec(m.split(".")[0]) is None]
    if absent:
        missing(f"docs tools not installed ({', '.join(absent)}): pip install -e '.[docs]'")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(REPO / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert build.returncode == 0, build.stderr[-4000:]
    tutorial = _text(site / "tutorial" / "index.html")
    assert "hcekit new plugin stamp_card" in tutorial and "hcekit check stamp_card" in tutorial
    reference = _text(site / "reference" / "traces" / "index.html")
    assert "replay_trace" in reference and "Re-send every recorded command" in reference
    contract = _text(site / "reference" / "plugin-contract" / "index.html")
    assert "hcekit_process" in contract and "One command APDU for the selected application" \
        in contract


def _text(page: Path) -> str:
    """The page's visible text (highlighting splits code into many tags)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
