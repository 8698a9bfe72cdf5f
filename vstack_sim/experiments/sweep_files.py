"""Sweep files and Python sweeps into a :class:`~.sweep_spec.SweepSpec`: a sweep file read (or a shipped sweep
found by name), ``--set`` and ``--replications`` applied, its base scenario resolved, and its axes checked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from vstack_sim.experiments.sweep_spec import (
    MAX_POINTS,
    MAX_RUNS,
    SweepError,
    SweepFile,
    SweepSpec,
    file_error,
    flatten_keys,
)
from vstack_sim.scenario.emit import config_dict
from vstack_sim.scenario.files import validate
from vstack_sim.scenario.overrides import line_of, parse_set
from vstack_sim.scenario.reading import SCENARIO_DIR, ScenarioError, load_file, read_yaml, shipped_path, shown_path
from vstack_sim.scenario.schema import SAFE_NAME, Config


def _check_axes(grid: dict | None, zipped: dict | None, lines: dict, shown: str) -> None:
    def at(*path):
        return line_of(path, lines) or shown

    if grid is not None and not grid:
        raise SweepError(f"{at('grid')}: grid: is empty (give at least one key with a list of values)")
    if zipped is not None and not zipped:
        raise SweepError(f"{at('zip')}: zip: is empty (give keys with lists of equal length)")
    for section, axis in (("grid", grid or {}), ("zip", zipped or {})):
        for key, values in axis.items():
            if not isinstance(values, (list, tuple)):
                raise SweepError(f"{at(section, key)}: {section}.{key}: must be a list of values")
            if not values:
                raise SweepError(f"{at(section, key)}: {section}.{key}: empty list of values")
            if key in ("run.seed", "name"):
                raise SweepError(f"{at(section, key)}: {section}.{key}: set by the sweep itself "
                                 "(replications give each run its seed and name)")
            if section == "zip":
                continue        # a zip's key may repeat a value; its points (the tuples) may not, below
            seen = []
            for value in values:
                if value in seen:
                    raise SweepError(f"{at(section, key)}: {section}.{key}: value {value!r} given twice")
                seen.append(value)
    if zipped:
        lengths = {k: len(v) for k, v in zipped.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k} has {n}" for k, n in lengths.items())
            raise SweepError(f"{at('zip')}: zip: lists of unequal length ({detail})")
        seen = []
        for point in zip(*zipped.values(), strict=True):
            if point in seen:
                shown_point = ", ".join(f"{k}={v!r}" for k, v in zip(zipped, point, strict=True))
                raise SweepError(f"{at('zip')}: zip: the point {shown_point} is given twice")
            seen.append(point)
    both = set(grid or {}) & set(zipped or {})
    if both:
        key = sorted(both)[0]
        raise SweepError(f"{at('zip', key)}: zip.{key}: also in grid")


def _build(doc: SweepFile, base: Config, base_data: dict, base_lines: dict, base_label: str, default_name: str,
           lines: dict, shown: str) -> SweepSpec:
    _check_axes(doc.grid, doc.zip, lines, shown)
    name = doc.name if doc.name is not None else default_name
    if not SAFE_NAME.fullmatch(name):
        raise SweepError(f"{line_of(('name',), lines) or shown}: name: {name!r} is not a safe folder name "
                         "(letters, digits, '.', '_', '-')")
    grid, zipped = dict(doc.grid or {}), dict(doc.zip or {})
    n_points = 1
    for values in grid.values():
        n_points *= len(values)
    if zipped:
        n_points *= len(next(iter(zipped.values())))
    if n_points > MAX_POINTS or n_points * doc.replications > MAX_RUNS:
        raise SweepError(f"{shown}: {n_points:,} points x {doc.replications:,} replications is too big "
                         f"(at most {MAX_POINTS:,} points and {MAX_RUNS:,} runs)")
    spec = SweepSpec(name=name, description=doc.description, base=base, base_data=base_data,
                     base_lines=base_lines, base_label=base_label, overrides=flatten_keys(doc.set), grid=grid,
                     zip=zipped, replications=doc.replications,
                     seed=doc.seed if doc.seed is not None else base.run.seed, compare=doc.compare, lines=lines)
    if doc.compare is not None:
        where = line_of(("compare",), lines) or shown
        if doc.compare.by not in spec.keys:
            raise SweepError(f"{where}: compare.by: {doc.compare.by!r} is not a grid or zip key")
        values = grid.get(doc.compare.by) or zipped.get(doc.compare.by)
        if doc.compare.baseline not in values:
            raise SweepError(f"{where}: compare.baseline: {doc.compare.baseline!r} is not one of the values "
                             f"of {doc.compare.by}")
    spec.validate_all()
    return spec


def find_sweep(path: str | Path) -> Path:
    """``path`` itself, or the shipped sweep it names (``policies``, ``policies.yaml``) when no such file exists."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    shipped = SCENARIO_DIR / "sweeps" / (path.name if path.name.endswith(".yaml") else f"{path.name}.yaml")
    return shipped if shipped.is_file() else path


def load_sweep(path: str | Path, sets: Iterable[str] = (), replications: int | None = None) -> SweepSpec:
    """Read and validate a sweep file (or a shipped sweep by name); every problem is a one-line :class:`SweepError`.

    ``sets`` (``--set KEY=VALUE``) are added to the sweep's ``set:`` (applied to the base scenario, after the
    file's own), and ``replications`` replaces the file's; both are recorded in the resolved sweep.yaml.
    """
    path = find_sweep(path)
    shown = shown_path(path)
    if not path.exists():
        raise SweepError(f"{shown}: sweep file not found, nor a shipped sweep of that name "
                         f"(scenarios/sweeps/)")
    if path.is_dir():
        raise SweepError(f"{shown}: is a folder, not a sweep file")
    try:
        data, lines = read_yaml(path, shown)
    except ScenarioError as exc:
        raise SweepError(str(exc).replace("a scenario must", "a sweep file must")) from None
    if not data:
        raise SweepError(f"{shown}: empty sweep file (it needs at least base:)")
    if sets or replications is not None:
        data = dict(data)
        extra = dict(data.get("set") or {}) if isinstance(data.get("set"), dict) else data.get("set")
        for item in sets:
            try:
                parts, value = parse_set(item)
            except ScenarioError as exc:
                raise SweepError(str(exc)) from None
            if isinstance(extra, dict):
                extra[".".join(parts)] = value
                lines[("set", ".".join(parts))] = f"--set {item}"
        data["set"] = extra
        if replications is not None:
            data["replications"] = replications
            lines[("replications",)] = f"--replications {replications}"
    try:
        doc = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise file_error(exc, lines, shown) from None
    base_path = path.parent / doc.base
    base_at = line_of(("base",), lines) or shown
    if not base_path.is_file() and len(Path(doc.base).parts) == 1:
        base_path = shipped_path(doc.base) or base_path     # a shipped scenario's name, as extends: takes
    if not base_path.is_file():
        raise SweepError(f"{base_at}: base: {doc.base}: scenario file not found, nor a shipped scenario")
    base_data, base_lines = load_file(base_path)
    base = validate(copy.deepcopy(base_data), base_lines)
    return _build(doc, base, base_data, base_lines, shown_path(base_path), path.stem, lines, shown)


def make_sweep(base: Config | str | Path, grid: dict | None = None, zip: dict | None = None,
               replications: int = 1, seed: int | None = None, set: dict | None = None,
               name: str | None = None, description: str = "", compare: dict | None = None) -> SweepSpec:
    """A :class:`SweepSpec` from Python arguments (``base``: a Config or a scenario path)."""
    if isinstance(base, Config):
        base_cfg, base_data, base_lines, label = base, config_dict(base), {}, f"<Config {base.name}>"
    elif isinstance(base, (str, Path)):
        base_data, base_lines = load_file(base)
        base_cfg = validate(copy.deepcopy(base_data), base_lines)
        label = shown_path(Path(base))
    else:
        raise TypeError(f"base must be a Config or a scenario path, got {type(base).__name__}")
    raw = {"name": name if name is not None else base_cfg.name, "description": description, "base": label,
           "set": set or {}, "grid": grid, "zip": zip, "replications": replications, "seed": seed,
           "compare": compare}
    try:
        doc = SweepFile.model_validate(raw)
    except ValidationError as exc:
        raise file_error(exc, {}, "sweep") from None
    return _build(doc, base_cfg, base_data, base_lines, label, base_cfg.name, {}, "sweep")
