"""What a sweep runs: a base scenario, a grid and a zip of dotted keys, replications and a root seed.

A sweep file (YAML, read with ``yaml.safe_load`` semantics) looks like::

    name: policies                 # results/<name>/ (default: the file's stem)
    description: ...
    base: ../baseline.yaml         # a scenario file, relative to this file
    set: {run.duration: 2d}        # overrides of the base for every run (dotted keys or nested mappings)
    grid:                          # the cartesian product of these lists
      redundancy.policy: [adaptive, replication, erasure_coding]
    zip:                           # keys varied together: one more axis of the product
      failures.node_mttf: [10h, 30h]
      repair.mttr: [1h, 3h]
    replications: 5
    seed: 2024                     # root of the replications' seeds (default: the base's run.seed)
    compare: {by: redundancy.policy, baseline: adaptive}   # paired differences in the report

Replication i of every point runs with the same integer seed, the i-th child of
``SeedSequence(seed).spawn(replications)``: common random numbers, so policies
see the same failures and views and their paired differences are tight.

Everything is checked before anything runs: the file's own keys, equal zip
lengths, and every point's scenario against the schema. A problem is a
one-line :class:`SweepError` naming the file, line and key, like a scenario's.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vstack_sim.scenario.emit import config_sha256, plain
from vstack_sim.scenario.files import validate
from vstack_sim.scenario.overrides import apply_overrides, line_of
from vstack_sim.scenario.reading import ScenarioError
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line

MAX_RUNS = 1_000_000
"""A sweep with more runs than this is refused before anything is expanded."""
MAX_POINTS = 100_000
"""Every point's scenario is validated up front; more points than this is refused."""


class SweepError(ScenarioError):
    """A sweep that cannot be run as given; the message is one line."""


class CompareSpec(BaseModel):
    """Which paired differences the sweep's report shows."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    by: str
    """The grid (or zip) key whose values are compared, e.g. redundancy.policy."""
    baseline: Any
    """The value of ``by`` every other value is compared with (per replication)."""


class SweepFile(BaseModel):
    """The keys of a sweep file."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str | None = None
    """Sweep name: the results folder results/<name>/ (default: the sweep file's stem)."""
    description: str = ""
    """Free text shown in the sweep's report."""
    base: str
    """The base scenario file, relative to the sweep file."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the base applied to every run: dotted keys (run.duration: 2d) or nested mappings."""
    grid: dict[str, Any] | None = None
    """Dotted key -> list of values; every combination is a point."""
    zip: dict[str, Any] | None = None
    """Dotted keys varied together (lists of equal length): one more axis of the product."""
    replications: int = Field(1, ge=1)
    """Runs per point, replication i with the same seed at every point."""
    seed: int | None = Field(None, ge=0)
    """Root of the replications' seeds (default: the base scenario's run.seed)."""
    compare: CompareSpec | None = None
    """Paired differences the report shows: by a key, against a baseline value."""


@dataclass(frozen=True)
class Point:
    """One combination of grid values (``values``: dotted key -> value as given)."""

    index: int
    name: str
    values: dict


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a point, a replication index and its seed; ``folder`` is ``<point>-r<i>``."""

    index: int
    point: Point
    replication: int
    seed: int

    @property
    def folder(self) -> str:
        return f"{self.point.name}-r{self.replication}"


def flatten_keys(mapping: dict, prefix: str = "") -> dict:
    """Nested mappings -> dotted keys (``{"run": {"duration": 1}}`` -> ``{"run.duration": 1}``)."""
    out = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        # redundancy.overrides is itself a mapping value of the schema, keyed by video id
        if isinstance(value, dict) and value and dotted != "redundancy.overrides":
            out.update(flatten_keys(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return re.sub(r"[^A-Za-z0-9._]+", "_", text).strip("_") or "x"


def file_error(exc: ValidationError, lines: dict, shown: str) -> SweepError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    line = validation_error_line(exc)
    if err["type"] == "extra_forbidden" and len(loc) == 1:
        close = difflib.get_close_matches(str(loc[0]), list(SweepFile.model_fields), n=1, cutoff=0.6)
        line += f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(SweepFile.model_fields)})"
    if err["type"] == "missing" and loc == ("base",):
        line = "base: required (the base scenario file)"
    return SweepError(f"{line_of(loc, lines) or shown}: {line}")


@dataclass
class SweepSpec:
    """A validated sweep: base scenario, axes, replications and seeds. Build with :func:`load_sweep`
    (a file) or :func:`make_sweep` (Python arguments)."""

    name: str
    description: str
    base: Config
    base_data: dict
    base_lines: dict
    base_label: str
    overrides: dict
    grid: dict
    zip: dict
    replications: int
    seed: int
    compare: CompareSpec | None = None
    lines: dict = field(default_factory=dict)
    _configs: dict = field(default_factory=dict, repr=False)

    # -- axes and points -----------------------------------------------------------------------
    @property
    def axes(self) -> list[tuple[str, ...]]:
        """The keys of each axis: one per grid key, then the zip's keys together."""
        axes = [(k,) for k in self.grid]
        if self.zip:
            axes.append(tuple(self.zip))
        return axes

    @property
    def keys(self) -> list[str]:
        """Every varied key, in axis order."""
        return [k for axis in self.axes for k in axis]

    def axis_of(self, key: str) -> tuple[str, ...]:
        return next(axis for axis in self.axes if key in axis)

    def n_points(self) -> int:
        n = 1
        for values in self.grid.values():
            n *= len(values)
        if self.zip:
            n *= len(next(iter(self.zip.values())))
        return n

    def points(self) -> list[Point]:
        """Every point, the last axis varying fastest."""
        choices = [[{k: v} for v in values] for k, values in self.grid.items()]
        if self.zip:
            length = len(next(iter(self.zip.values())))
            choices.append([{k: self.zip[k][j] for k in self.zip} for j in range(length)])
        combos = list(itertools.product(*choices)) if choices else [()]
        width = len(str(max(len(combos) - 1, 0)))
        points = []
        for i, combo in enumerate(combos):
            values = {k: v for part in combo for k, v in part.items()}
            slug = "-".join(f"{k.rsplit('.', 1)[-1]}-{_slug(v)}" for k, v in values.items())[:60].rstrip("-_.")
            points.append(Point(i, f"p{i:0{width}d}" + (f"-{slug}" if slug else ""), values))
        return points

    def seeds(self) -> list[int]:
        """Replication i's integer run.seed, the same at every point (common random numbers)."""
        children = np.random.SeedSequence(self.seed).spawn(self.replications)
        return [int(child.generate_state(1)[0]) for child in children]

    def runs(self) -> list[RunSpec]:
        seeds = self.seeds()
        return [RunSpec(p.index * self.replications + i, p, i, seeds[i])
                for p in self.points() for i in range(self.replications)]

    # -- scenarios ------------------------------------------------------------------------------
    def point_config(self, point: Point) -> Config:
        """The point's validated scenario (before its replication's seed is set)."""
        if point.index not in self._configs:
            data = copy.deepcopy(self.base_data)
            lines = dict(self.base_lines)
            for origin, values in (("set", self.overrides), ("grid", point.values)):
                for key, value in values.items():
                    apply_overrides(data, {key: value}, lines)
                    lines[tuple(key.split("."))] = self._line(origin, key, value)
            self._configs[point.index] = validate(data, lines)
        return self._configs[point.index]

    def _line(self, origin: str, key: str, value) -> str:
        """``file:line`` of the value a key takes in the sweep file, for error messages."""
        if origin == "set":
            where = self.lines.get(("set", key)) or line_of(("set", *key.split(".")), self.lines)
            return where or "sweep set"
        section = "grid" if key in self.grid else "zip"
        j = (self.grid.get(key) or self.zip.get(key)).index(value)
        return self.lines.get((section, key, str(j))) or self.lines.get((section, key)) or f"sweep {section}"

    def run_config(self, run: RunSpec) -> Config:
        """The scenario of one run: its point's, named after its folder, with the replication's seed."""
        cfg = self.point_config(run.point)
        return cfg.model_copy(update={"name": run.folder, "run": cfg.run.model_copy(update={"seed": run.seed})})

    def validate_all(self) -> None:
        """Validate every point's scenario; the first problem raises its one-line error."""
        for point in self.points():
            self.point_config(point)

    # -- the resolved form ----------------------------------------------------------------------
    def document(self, base_ref: str = "base.yaml") -> dict:
        """The resolved sweep file (every default filled, the root seed explicit)."""
        doc = {"name": self.name, "description": self.description, "base": base_ref, "set": self.overrides,
               "grid": self.grid or None, "zip": self.zip or None, "replications": self.replications,
               "seed": self.seed}
        if self.compare is not None:
            doc["compare"] = self.compare.model_dump()
        return {k: v for k, v in doc.items() if v is not None}

    def to_yaml(self) -> str:
        header = ("# Resolved sweep: base.yaml is the resolved base scenario; the root seed is explicit.\n"
                  "# Rerun it with: vstack-sim sweep sweep.yaml\n")
        return header + yaml.safe_dump(plain(self.document()), sort_keys=False, allow_unicode=True,
                                       width=100)

    def fingerprint(self) -> dict:
        """SHA-256 of the sweep (without the base's path) and of the resolved base scenario."""
        doc = self.document(base_ref="")
        text = json.dumps(plain(doc), sort_keys=True, separators=(",", ":"), default=str)
        return {"sweep_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "base_sha256": config_sha256(self.base)}
