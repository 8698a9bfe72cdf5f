"""The model checked against published numbers and closed forms (issue 26, part 5).

Each check names its source (a paper, a calculator, a closed form, with a citation), its parameters, the
expected value, the simulated or computed value with its interval, the tolerance rule and the verdict
(:mod:`.check`). The checks (:mod:`.registry`): the exact MTTDL chains against the world
(:mod:`.durability_checks`), the Backblaze calculator's rows, the importance estimates of the one-stripe
model against the exact transient chain, Xorbas's repair traffic and the V-Stack design's storage arithmetic
(:mod:`.system_checks`), M/D/1 and M/G/1 (:mod:`.queue_checks`). Each has a ``quick`` size (the suite's and
``vstack-sim check-model``'s default) and a ``full`` one (``--full``).

This is the ``validation`` layer: it runs simulations, so it sits above ``model`` (and ``experiments``);
only ``cli`` (and the notebooks, through the public facade) import it.
"""

from vstack_sim.validation.check import SIZES, CheckResult, CheckSpec, Measurement, Rule, run_spec
from vstack_sim.validation.registry import all_passed, names, rows, run_checks, select, specs, table

__all__ = ["SIZES", "CheckResult", "CheckSpec", "Measurement", "Rule", "all_passed", "names", "rows", "run_checks",
           "run_spec", "select", "specs", "table"]
