"""The manifest of a results folder: what produced a run, and the mark of a vstack-sim folder.

``manifest.json`` records the versions of the package and its dependencies,
Python and the platform, the git commit the package was built from
(:mod:`vstack_sim.results.buildinfo`), the seed, the SHA-256 of the resolved
scenario, the command line and wall-clock timings. Its ``format``
key says that the folder is a vstack-sim results folder: ``--force`` replaces
only folders that carry it (:mod:`vstack_sim.results.folders`).
"""

from __future__ import annotations

import platform
import shlex
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path

from vstack_sim.results.buildinfo import build_info
from vstack_sim.scenario.emit import config_sha256
from vstack_sim.scenario.schema import Config

RESULTS_FORMAT = "vstack-sim results folder"
"""The manifest's ``format``: what marks a folder as one that ``--force`` may replace."""

_DEPENDENCIES = ("numpy", "pandas", "simpy", "matplotlib", "pyyaml", "reedsolo", "pydantic", "tqdm",
                 "google-crc32c", "scipy")


def _versions() -> dict:
    out = {}
    for name in ("vstack-sim",) + _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_manifest(config: Config, argv: Sequence[str] | None, wall_time_s: float, timings: Mapping,
                   out: Path | str | None = None) -> dict:
    """What produced a run: versions, Python, git commit, seed, config SHA-256, command line, timings."""
    command = ["vstack-sim", *argv] if argv is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]
    return {
        "format": RESULTS_FORMAT,
        "scenario": config.name,
        "seed": config.run.seed,
        "config_sha256": config_sha256(config),
        "command": shlex.join(command),
        "out": str(out) if out is not None else None,
        "versions": _versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Fixed when the package was built (setuptools-scm), never read from the working folder's git.
        **{k: v for k, v in build_info().items() if k != "version"},
        "wall_time_s": round(wall_time_s, 3),
        # The simulator may name its phases build_s, run_s ...; the section's name carries the unit.
        "timings_s": {k.removesuffix("_s"): round(float(v), 3) for k, v in timings.items()},
    }
