"""What the installed package was built from: version, git commit and a dirty flag, fixed at build time.

``pip install .`` (or building a wheel) runs setuptools-scm, which writes
``vstack_sim/_build_info.py`` (not tracked in git) with the version, the
commit of the source tree it was built from and whether tracked files
differed from that commit. ``manifest.json`` reports that record, never the
commit of whatever repository the user happens to run in.

An editable install (``pip install -e .``) records the commit at install
time; the code may have moved on since, so the record says ``editable``.
A package imported from a source tree that was never built has no record:
every field is then None.
"""

from __future__ import annotations

import importlib
import json
import re
from importlib import metadata

_HEX = re.compile(r"^[0-9a-f]{4,40}$")


def commit_from_node(node: str | None) -> str | None:
    """setuptools-scm's git node (``g`` + hex) as a bare commit hash; None for anything else."""
    if not isinstance(node, str):
        return None
    node = node.removeprefix("g")
    return node if _HEX.match(node) else None


def _editable() -> bool | None:
    """Whether pip installed the package in editable mode (PEP 610 direct_url.json), None if unknown."""
    try:
        text = metadata.distribution("vstack-sim").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable", False))
    except (ValueError, AttributeError):
        return None


def build_info() -> dict:
    """``{"version", "git_commit", "git_dirty", "editable"}`` of the installed package (None where unknown)."""
    try:
        record = importlib.import_module("vstack_sim._build_info")
    except ImportError:
        record = None
    return {
        "version": getattr(record, "version", None),
        "git_commit": commit_from_node(getattr(record, "node", None)),
        "git_dirty": getattr(record, "dirty", None) if record is not None else None,
        "editable": _editable(),
    }


def version() -> str:
    """The package version: the build record's, else the installed metadata's, else "0+unknown"."""
    info = build_info()["version"]
    if info:
        return info
    try:
        return metadata.version("vstack-sim")
    except metadata.PackageNotFoundError:
        return "0+unknown"
