"""A tiny base scenario and sweep files for the sweep tests (runs of a fraction of a second)."""

from __future__ import annotations

from pathlib import Path

import yaml

TINY = {
    "name": "tiny",
    "run": {"duration": "1h", "seed": 5},
    "catalog": {"videos": 12, "chunks_per_video": 3, "chunk_size": "64KiB", "hot_fraction": 0.25},
    "cluster": {"nodes": 7, "racks": 7},
    "workload": {"view_rate": "0.2/s"},
    "migration": {"check_interval": "10min"},
    "failures": {"node_mttf": "3h", "permanent_fraction": 0.5, "detection_timeout": "2min",
                 "replacement_delay": "5min"},
    "outputs": {"timeline_interval": "10min", "figures": False},
}


def write_base(folder: Path, **changes) -> Path:
    data = {**TINY, **changes}
    path = folder / "base.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def write_sweep(folder: Path, text: str, name: str = "s.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
