"""vstack-sim: a simulator of a video store with popularity-driven adaptive redundancy.

Two layers, one direction (see docs/model.md):

* the real system: :mod:`vstack_sim.system.codec` (GF(2^8) Reed-Solomon),
  :mod:`vstack_sim.system.manager` (mode selection) and :mod:`vstack_sim.system.ledger`
  (storage accounting). None of these import SimPy.
* the simulated world (:mod:`vstack_sim.model`, :mod:`vstack_sim.model.simulation`)
  drives the real system inside a SimPy clock.

Names are imported lazily so that ``vstack-sim efficiency`` does not pay for
pandas, SimPy and matplotlib.
"""

from __future__ import annotations

import importlib


def _version() -> str:
    from vstack_sim.results.buildinfo import version  # the version setuptools-scm fixed when the package was built

    return version()


__version__ = _version()

_EXPORTS = {
    "ErasureCoder": "vstack_sim.system.codec",
    "Fragment": "vstack_sim.system.codec",
    "FragmentManager": "vstack_sim.system.codec",
    "InsufficientFragmentsError": "vstack_sim.system.codec",
    "RedundancyMode": "vstack_sim.system.modes",
    "RedundancyManager": "vstack_sim.system.manager",
    "StorageLedger": "vstack_sim.system.ledger",
    "Config": "vstack_sim.scenario.schema",
    "simulate": "vstack_sim.model.simulation",
    "Result": "vstack_sim.model.simulation",
    "load_scenario": "vstack_sim.scenario.files",
    "load_result": "vstack_sim.results.store",
    "sweep": "vstack_sim.experiments.sweeps",
    "Sweep": "vstack_sim.experiments.sweeps",
    "load_sweep": "vstack_sim.experiments.sweep_files",
    "compare": "vstack_sim.experiments.comparison",
    "Comparison": "vstack_sim.experiments.comparison",
}

_MODULES = {
    # the name for the analytic durability functions: ``from vstack_sim import durability``
    "durability": "vstack_sim.analysis.durability",
    # the model checked against published numbers: ``validation.run_checks()``, ``validation.table(...)``
    "validation": "vstack_sim.validation",
}

__all__ = sorted(_EXPORTS) + sorted(_MODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
        globals()[name] = value
        return value
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vstack_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
