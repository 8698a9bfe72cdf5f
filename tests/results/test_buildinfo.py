"""Build info: the commit and dirty flag setuptools-scm fixes into the package at build time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

from vstack_sim.results import buildinfo

ROOT = Path(__file__).resolve().parents[2]


def test_commit_from_node_strips_the_git_prefix():
    assert buildinfo.commit_from_node("g3994080dd41c48a019faa4a35dd9bd9f22e815aa") == \
        "3994080dd41c48a019faa4a35dd9bd9f22e815aa"
    assert buildinfo.commit_from_node("g3994080dd") == "3994080dd"
    assert buildinfo.commit_from_node(None) is None
    assert buildinfo.commit_from_node("h12ab") is None   # not git


def test_build_info_reads_the_generated_record(monkeypatch):
    record = types.ModuleType("vstack_sim._build_info")
    record.version, record.node, record.dirty = "0.1.1.dev3+gabcdef1234", "gabcdef1234", False
    monkeypatch.setitem(sys.modules, "vstack_sim._build_info", record)
    info = buildinfo.build_info()
    assert (info["version"], info["git_commit"], info["git_dirty"]) == ("0.1.1.dev3+gabcdef1234", "abcdef1234", False)


def test_build_info_without_a_record_is_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "vstack_sim._build_info", None)   # import fails
    info = buildinfo.build_info()
    assert info["git_commit"] is None and info["git_dirty"] is None and info["version"] is None


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _wheel_record(src: Path, out: Path) -> dict:
    """Build a wheel of ``src`` (no build isolation: the test extra has setuptools-scm) and read its record."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = out.glob("vstack_sim-*.whl")
    with zipfile.ZipFile(wheel) as z:
        text = z.read("vstack_sim/_build_info.py").decode()
    namespace: dict = {}
    exec(compile(text, "_build_info.py", "exec"), namespace)   # the file the build wrote, not user input
    return namespace


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_wheel_built_from_a_clone_records_its_commit_and_dirty_flag(tmp_path):
    # A fresh repository holding the package's sources: its commit is known and differs from any
    # repository the test may run in.
    src = tmp_path / "clone"
    for rel in ["pyproject.toml", "README.md", *[str(p.relative_to(ROOT)) for p in ROOT.glob("vstack_sim/**/*.py")
                                                  if p.name != "_build_info.py"],
                *[str(p.relative_to(ROOT)) for p in ROOT.glob("scenarios/*.yaml")]]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    _git(src, "init", "-q")
    _git(src, "add", "-A")
    _git(src, "commit", "-q", "-m", "clone")
    head = _git(src, "rev-parse", "HEAD")

    clean = _wheel_record(src, tmp_path / "clean")
    assert buildinfo.commit_from_node(clean["node"]) == head and clean["dirty"] is False
    assert clean["version"].startswith("0.1.")

    with open(src / "README.md", "a") as f:
        f.write("\nedited\n")
    dirty = _wheel_record(src, tmp_path / "dirty")
    assert buildinfo.commit_from_node(dirty["node"]) == head and dirty["dirty"] is True
