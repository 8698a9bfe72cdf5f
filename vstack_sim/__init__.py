"""vstack-sim: a simulator of a video store with popularity-driven adaptive redundancy.

Two layers, one direction (see docs/model.md):

* the real system: :mod:`vstack_sim.codec` (GF(2^8) Reed-Solomon),
  :mod:`vstack_sim.redundancy` (mode selection) and :mod:`vstack_sim.ledger`
  (storage accounting). None of these import SimPy.
* the simulated world (:mod:`vstack_sim.model`, :mod:`vstack_sim.simulation`)
  drives the real system inside a SimPy clock.

Names are imported lazily so that ``vstack-sim efficiency`` does not pay for
pandas, SimPy and matplotlib.
"""

from __future__ import annotations

import importlib



def _version() -> str:
    from .buildinfo import version   # the version setuptools-scm fixed when the package was built

    return version()


__version__ = _version()

_EXPORTS = {
    "ErasureCoder": "vstack_sim.codec",
    "Fragment": "vstack_sim.codec",
    "FragmentManager": "vstack_sim.codec",
    "InsufficientFragmentsError": "vstack_sim.codec",
    "RedundancyMode": "vstack_sim.redundancy",
    "RedundancyManager": "vstack_sim.redundancy",
    "StorageLedger": "vstack_sim.ledger",
    "Config": "vstack_sim.config",
    "simulate": "vstack_sim.simulation",
    "Result": "vstack_sim.simulation",
    "load_scenario": "vstack_sim.scenario",
    "load_result": "vstack_sim.results",
    "sweep": "vstack_sim.sweeps",
    "Sweep": "vstack_sim.sweeps",
    "load_sweep": "vstack_sim.sweep_spec",
    "compare": "vstack_sim.comparison",
    "Comparison": "vstack_sim.comparison",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vstack_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
