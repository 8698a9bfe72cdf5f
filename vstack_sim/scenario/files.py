"""Loading a scenario: a file (or a shipped scenario's name), ``--set`` overrides and ``--seed``, validated
by the schema into a :class:`~vstack_sim.scenario.schema.Config`.

A scenario file is a mapping of the keys of :class:`~vstack_sim.scenario.schema.Config`. It may
``extends:`` another file (:mod:`.reading`); command-line overrides ``--set a.b.c=value`` come last
(:mod:`.overrides`). Every problem raises a one-line :class:`~.reading.ScenarioError` naming the key
path and, where known, the file and line, e.g. ``scenarios/x.yaml:12: cluster.nodez: unknown key (did
you mean 'nodes'?)``. The CLI prints that line and exits 2. The resolved form (YAML, canonical JSON,
SHA-256) is :mod:`.emit`; the reference of every key is :mod:`.reference`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from vstack_sim.scenario.emit import to_yaml
from vstack_sim.scenario.overrides import apply_overrides, error_line
from vstack_sim.scenario.reading import ScenarioError, find_scenario, load_file
from vstack_sim.scenario.schema import Config

DEFAULT = "default"
"""The shipped scenario that ``load_scenario(None)`` and a bare ``vstack-sim run`` load."""


def validate(data: dict, lines: dict | None = None) -> Config:
    """A :class:`Config` from a raw mapping, or a one-line :class:`ScenarioError`."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(error_line(exc, lines or {})) from None


def load_scenario(path: str | Path | None = None, overrides: Iterable[str] | Mapping[str, Any] | None = None,
                  seed: int | None = None) -> Config:
    """Load and validate a scenario file; ``None`` is the shipped ``default`` scenario (the schema's defaults,
    named and described).

    ``path`` may also name a shipped scenario (``"baseline"``) when no such file exists.

    ``overrides`` are ``--set`` strings (``["run.duration=1d"]``) or a mapping of dotted keys to values
    (``{"run.duration": "1d"}``); ``seed`` replaces ``run.seed``.
    """
    return _load(path, overrides, seed)[0]


def _load(path, overrides, seed) -> tuple[Config, dict]:
    """The validated Config and the raw mapping it came from (the values as written, units and all)."""
    data, lines = load_file(find_scenario(DEFAULT if path is None else path))
    apply_overrides(data, overrides, lines)
    if seed is not None:
        apply_overrides(data, {"run.seed": seed}, lines)
        lines[("run", "seed")] = "--seed"
    return validate(copy.deepcopy(data), lines), data


def resolve_as_written(path: str | Path | None = None, overrides=None, seed: int | None = None) -> str:
    """``vstack-sim validate``: the resolved scenario as YAML, each value the user wrote with a unit
    (``7d``, ``2MiB``) shown beside its base-unit value as a comment."""
    config, written = _load(path, overrides, seed)
    return to_yaml(config, written)


resolve = load_scenario
"""The CLI's name for it: ``resolve(path, sets, seed) -> Config``."""
