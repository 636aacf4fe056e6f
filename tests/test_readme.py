"""The README is a user's guide: at most 250 lines, its install and test commands the ones `.ci/run`
runs (marked there), and every page it links to exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def marked_commands(marker: str) -> list[str]:
    """The commands of `.ci/run` on lines marked `# README: <marker>`."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.rstrip().endswith(f"# README: {marker}")]


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 250


def test_the_readme_shows_the_install_and_test_commands_ci_runs():
    text = README.read_text()
    for marker in ("install", "test"):
        (command,) = marked_commands(marker)
        assert command in text, f".ci/run's `{command}` (# README: {marker}) is not in README.md"
    assert marked_commands("install") == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev,peers]"'
    ]


def test_every_page_and_picture_the_readme_links_exists():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert links, "the README links its reference pages"
    missing = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert not missing, missing
