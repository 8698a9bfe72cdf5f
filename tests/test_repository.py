"""The repository stands alone: no tracked file points outside it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built from pieces so that this file does not match itself.
FORBIDDEN = ("../" + "shared", "DESIGN" + " §")


def _tracked() -> list[Path]:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / name for name in proc.stdout.split("\0") if name]


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for path in _tracked():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue   # binary (PNGs) or deleted in the work tree
        offenders += [f"{path.relative_to(ROOT)}: {word}" for word in FORBIDDEN if word in text]
    assert offenders == []


def test_the_docs_the_repository_points_to_exist():
    for page in ("model.md", "results.md", "seed-notes.md", "scenario-reference.md"):
        assert (ROOT / "docs" / page).is_file(), page
