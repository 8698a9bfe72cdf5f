"""What one check of the model is: its source, parameters, expected value, the simulated (or computed) value
with its interval, the tolerance rule, and the verdict.

A check is a :class:`CheckSpec`: how to measure (``measure(size)``, size ``quick`` or ``full``) and what to
expect (``expected``), judged by a :class:`Rule`. :func:`run_spec` measures and judges, giving a
:class:`CheckResult`. The expected value can be replaced (``expected=``): a deliberately wrong one must make
the check fail, which is how the tests show that no check can always pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

SIZES = ("quick", "full")
"""quick: the suite's and the CLI's default; full: more seeds or replications (``check-model --full``)."""


@dataclass(frozen=True)
class Measurement:
    """A simulated or computed value, with its interval (``lo``, ``hi``; None for an exact computation)."""

    value: float
    lo: float | None = None
    hi: float | None = None
    interval: str = ""
    """What the interval is, e.g. "99 %: z 2.5758 x the chain's exact sd / sqrt(40)"."""
    relative_error: float | None = None
    """The estimate's own relative error (1.96 sd / (sqrt(N) mean)) where the rule reads it."""
    parameters: dict = field(default_factory=dict)
    """What this size ran (seeds, replications, reads), added to the check's parameters."""


@dataclass(frozen=True)
class Rule:
    """When a measurement agrees with the expected value. Every part that is set must hold.

    * ``in_interval``: the expected value inside the measurement's interval;
    * ``rel``: ``|value / expected - 1| <= rel`` (0: exactly equal);
    * ``sig_figs``: the value rounds to the expected one at that many significant figures (a published
      figure printed to that precision);
    * ``max_relative_error``: the estimate's own relative error at most this.
    """

    in_interval: bool = False
    rel: float | None = None
    sig_figs: int | None = None
    max_relative_error: float | None = None

    def passes(self, expected: float, m: Measurement) -> bool:
        ok = math.isfinite(m.value)
        if self.in_interval:
            ok = ok and m.lo is not None and m.hi is not None and m.lo <= expected <= m.hi
        if self.rel is not None:
            ok = ok and (m.value == expected if self.rel == 0 else abs(m.value / expected - 1.0) <= self.rel)
        if self.sig_figs is not None:
            ok = ok and significant(m.value, self.sig_figs) == significant(expected, self.sig_figs)
        if self.max_relative_error is not None:
            ok = ok and m.relative_error is not None and m.relative_error <= self.max_relative_error
        return bool(ok)

    def text(self) -> str:
        parts = []
        if self.in_interval:
            parts.append("expected inside the interval")
        if self.rel is not None:
            parts.append("exactly equal" if self.rel == 0 else f"within {self.rel:.3g} (relative)")
        if self.sig_figs is not None:
            parts.append(f"equal to {self.sig_figs} significant figures")
        if self.max_relative_error is not None:
            parts.append(f"relative error <= {self.max_relative_error:.0%}")
        return "; ".join(parts)


def significant(x: float, figures: int) -> str:
    """``x`` printed to ``figures`` significant figures (the way a published table prints it)."""
    return f"{x:.{figures - 1}e}"


@dataclass(frozen=True)
class CheckSpec:
    """One check: what it compares, with whom, and how it is judged."""

    name: str
    source: str
    """Short: "exact chain", "Backblaze calculator", "Xorbas (PVLDB'13)", "Pollaczek-Khinchine", ..."""
    citation: str
    parameters: dict
    expected: float
    unit: str
    rule: Rule
    measure: Callable[[str], Measurement] | None
    """``measure(size)``; None: the check cannot be made (``why_not`` says why)."""
    why_not: str = ""
    sizes: tuple[str, ...] = SIZES
    """The sizes that run it (a check too noisy at the quick size runs in the full one only)."""


@dataclass(frozen=True)
class CheckResult:
    """A check made: its spec's record, the measurement, the verdict (None: not checkable)."""

    name: str
    source: str
    citation: str
    parameters: dict
    expected: float
    unit: str
    tolerance: str
    size: str
    measurement: Measurement | None
    passed: bool | None
    note: str = ""
    figures: int | None = None
    """Significant figures the expected value is published to (None: printed in full)."""

    @property
    def status(self) -> str:
        return {True: "pass", False: "FAIL", None: "not checkable"}[self.passed]

    def as_dict(self) -> dict:
        m = self.measurement
        return {"name": self.name, "source": self.source, "citation": self.citation, "parameters": self.parameters,
                "expected": self.expected, "unit": self.unit, "tolerance": self.tolerance, "size": self.size,
                "value": None if m is None else m.value, "lo": None if m is None else m.lo,
                "hi": None if m is None else m.hi, "interval": None if m is None else m.interval,
                "relative_error": None if m is None else m.relative_error, "status": self.status,
                "passed": self.passed, "note": self.note}


def run_spec(spec: CheckSpec, size: str = "quick", expected: float | None = None) -> CheckResult:
    """Measure ``spec`` at ``size`` and judge it against ``expected`` (default: the spec's)."""
    if size not in SIZES:
        raise ValueError(f"size: must be one of {SIZES}, got {size!r}")
    want = spec.expected if expected is None else expected
    if spec.measure is None:
        return CheckResult(spec.name, spec.source, spec.citation, dict(spec.parameters), want, spec.unit,
                           spec.rule.text(), size, None, None, spec.why_not, spec.rule.sig_figs)
    m = spec.measure(size)
    return CheckResult(spec.name, spec.source, spec.citation, {**spec.parameters, **m.parameters}, want, spec.unit,
                       spec.rule.text(), size, m, spec.rule.passes(want, m), "", spec.rule.sig_figs)
