"""The constrained answer of a sweep or a comparison: the cheapest option (by mean ``cost.total_dollars``)
among those that meet every constraint such as ``reads.latency_ms.all.p99<=60``, judged on the intervals.

An option *meets* a constraint when its interval's worse end does (the upper bound for ``<=``, the lower
bound for ``>=``), *fails* it when even the better end does not, and is *uncertain* when the interval
straddles the bound. With one run (no interval) the value itself is both ends. The cheapest option that
meets everything is *tied within the intervals* with every other meeting option whose cost interval
overlaps its own.

:func:`cheapest_meeting` is pure: options are ``{label: {metric: interval}}``, an interval being a
:class:`~vstack_sim.analysis.stats.Interval`, a ``{"mean", "lo", "hi"}`` mapping or a ``(mean, lo, hi)``
tuple. :func:`options_of_groups` builds them from the groups a sweep or a comparison already has.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from vstack_sim.experiments.intervals import format_interval

COST = "cost.total_dollars"
"""What "cheapest" ranks by: the mean of the runs' dollars at their prices."""

_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*(<=|>=)\s*(\S+)\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class ConstraintError(ValueError):
    """Constraints that cannot be answered on these options: a metric none of them has."""


@dataclass(frozen=True)
class Constraint:
    """``metric <= bound`` or ``metric >= bound``."""

    metric: str
    op: str
    bound: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"

    def judge(self, mean: float, lo: float, hi: float) -> str:
        """``meets`` (the worse end meets it), ``fails`` (the better end does not), else ``uncertain``."""
        worse, better = (hi, lo) if self.op == "<=" else (lo, hi)
        ok = (lambda v: v <= self.bound) if self.op == "<=" else (lambda v: v >= self.bound)
        if ok(worse):
            return "meets"
        return "uncertain" if ok(better) else "fails"

    def shortfall(self, mean: float, lo: float, hi: float) -> float:
        """How far the worse end is beyond the bound, relative to the bound (0 when it meets it)."""
        worse = hi if self.op == "<=" else lo
        gap = worse - self.bound if self.op == "<=" else self.bound - worse
        return max(0.0, gap) / max(abs(self.bound), 1e-12)


def parse_constraint(text: str) -> Constraint:
    """``"reads.latency_ms.all.p99<=60"`` as a :class:`Constraint`; ValueError naming ``text`` otherwise."""
    m = _CONSTRAINT.match(str(text))
    if m is None:
        raise ValueError(f"bad constraint {text!r}: write METRIC<=VALUE or METRIC>=VALUE, "
                         "e.g. reads.latency_ms.all.p99<=60")
    metric, op, number = m.groups()
    if not _NUMBER.match(number):
        raise ValueError(f"bad constraint {text!r}: {number!r} is not a number")
    bound = float(number)
    if not math.isfinite(bound):
        raise ValueError(f"bad constraint {text!r}: {number!r} is not a finite number")
    return Constraint(metric, op, bound)


def parse_constraints(texts) -> list[Constraint]:
    """Every constraint of ``texts`` (strings or :class:`Constraint`), in order."""
    return [t if isinstance(t, Constraint) else parse_constraint(t) for t in texts]


def _bounds(value) -> tuple[float, float, float] | None:
    """(mean, lo, hi) of an interval; the mean at both ends without an interval; None without a value."""
    if value is None:
        return None
    if hasattr(value, "estimate"):
        mean, lo, hi = value.estimate, value.lo, value.hi
    elif isinstance(value, dict):
        mean, lo, hi = value.get("mean"), value.get("lo"), value.get("hi")
    else:
        mean, lo, hi = value
    try:
        mean = float(mean)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(mean):
        return None
    lo = float(lo) if lo is not None and math.isfinite(float(lo)) else mean
    hi = float(hi) if hi is not None and math.isfinite(float(hi)) else mean
    return mean, lo, hi


def _dollars(value: float) -> str:
    """Cents, or three significant digits below a dollar: the cheapest of tiny runs must not read $0.00."""
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:.3g}"


def _shown(metric: str, b: tuple[float, float, float]) -> str:
    if metric != COST:
        return format_interval(metric, {"mean": b[0], "lo": b[1], "hi": b[2]})
    mean, lo, hi = (_dollars(v) for v in b)
    return mean if lo == hi else f"{mean} [{lo}, {hi}]"


@dataclass
class Choice:
    """What :func:`cheapest_meeting` found; :meth:`sentence` says it in one sentence."""

    constraints: list[Constraint]
    best: str | None = None
    meeting: list[str] = field(default_factory=list)
    """Options meeting every constraint, cheapest first."""
    ties: list[str] = field(default_factory=list)
    """Meeting options whose cost interval overlaps the best's."""
    uncertain: dict[str, list[Constraint]] = field(default_factory=dict)
    """Options failing nothing whose interval straddles these constraints' bounds."""
    failing: dict[str, list[Constraint]] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    """Options that cannot be judged or ranked: the metrics they lack."""
    closest: str | None = None
    """Without a best option: the one whose worse ends fall least short of the bounds."""
    values: dict[str, dict[str, tuple]] = field(default_factory=dict)

    def _cost(self, label: str) -> str:
        b = self.values[label].get(COST)
        return "no cost" if b is None else _shown(COST, b)

    def _detail(self, label: str, constraints) -> str:
        return "; ".join(f"{c.metric} {_shown(c.metric, self.values[label][c.metric])}" for c in constraints
                         if self.values[label].get(c.metric) is not None)

    def sentence(self) -> str:
        wanted = " and ".join(str(c) for c in self.constraints)
        if self.best is not None:
            out = (f"The cheapest option with {wanted}: {self.best} at {self._cost(self.best)} "
                   f"({self._detail(self.best, self.constraints)})")
            if self.ties:
                out += ("; tied within the intervals with "
                        + ", ".join(f"{t} at {self._cost(t)}" for t in self.ties))
        else:
            out = f"No option meets {wanted}"
            if self.closest is not None:
                short = [c for c in self.constraints if self.values[self.closest].get(c.metric) is not None]
                out += f" (closest: {self.closest}, {self._detail(self.closest, short)})"
        if self.uncertain:
            out += ("; uncertain (an interval straddles a bound): "
                    + ", ".join(f"{u} at {self._cost(u)} ({self._detail(u, cs)})" for u, cs in self.uncertain.items()))
        if self.missing:
            out += "; not judged: " + ", ".join(f"{m} (no {', '.join(ms)})" for m, ms in self.missing.items())
        return out + "."


def cheapest_meeting(options: dict, constraints) -> Choice:
    """The cheapest of ``options`` (``{label: {metric: interval}}``) whose intervals' worse ends meet every
    constraint (strings such as ``"storage_mean_savings_percent>=35"`` or :class:`Constraint`); see the module.

    ValueError when there are no constraints, or when no option has a constrained metric or a cost at all
    (a misspelt metric, or results from before costs were recorded).
    """
    constraints = parse_constraints(constraints)
    if not constraints:
        raise ValueError("no constraints given")
    values = {label: {m: b for m, v in metrics.items() if (b := _bounds(v)) is not None}
              for label, metrics in options.items()}
    for metric in dict.fromkeys([c.metric for c in constraints] + [COST]):
        if options and not any(metric in v for v in values.values()):
            which = next((str(c) for c in constraints if c.metric == metric), "ranking by cost")
            raise ConstraintError(f"{which}: no option has {metric}")
    choice = Choice(constraints, values=values)
    meeting = []
    for label, have in values.items():
        lacking = [c.metric for c in constraints if c.metric not in have]
        verdicts = {c: c.judge(*have[c.metric]) for c in constraints if c.metric in have}
        failed = [c for c, v in verdicts.items() if v == "fails"]
        if failed:
            choice.failing[label] = failed
        elif lacking or COST not in have:
            choice.missing[label] = list(dict.fromkeys(lacking + ([COST] if COST not in have else [])))
        elif any(v == "uncertain" for v in verdicts.values()):
            choice.uncertain[label] = [c for c, v in verdicts.items() if v == "uncertain"]
        else:
            meeting.append(label)
    cost = lambda label: values[label][COST][0]  # noqa: E731
    choice.meeting = sorted(meeting, key=cost)
    choice.uncertain = dict(sorted(choice.uncertain.items(), key=lambda kv: cost(kv[0])))
    if choice.meeting:
        choice.best = best = choice.meeting[0]
        _, lo, hi = values[best][COST]
        choice.ties = [o for o in choice.meeting[1:] if values[o][COST][1] <= hi and values[o][COST][2] >= lo]
    else:
        judged = [label for label in values if not any(c.metric not in values[label] for c in constraints)]
        if judged:
            choice.closest = min(judged, key=lambda label: (
                sum(c.shortfall(*values[label][c.metric]) for c in constraints),
                values[label][COST][0] if COST in values[label] else math.inf))  # the cheaper of equals
    return choice


def options_of_groups(groups, constraints, level: float = 0.95) -> dict:
    """``{group label: {metric: interval}}`` of the constrained metrics and the cost, for :func:`cheapest_meeting`."""
    metrics = list(dict.fromkeys([c.metric for c in parse_constraints(constraints)] + [COST]))
    return {g.label: {m: iv for m in metrics if (iv := g.interval(m, level)).n} for g in groups}


def choose(groups, constraints, level: float = 0.95) -> Choice:
    """:func:`cheapest_meeting` over a sweep's or a comparison's groups."""
    return cheapest_meeting(options_of_groups(groups, constraints, level), constraints)


def answer(groups, constraints, level: float = 0.95) -> str:
    """The sentence of :func:`choose`, or why there is none (a finished sweep reports rather than fails)."""
    try:
        return choose(groups, constraints, level).sentence()
    except ValueError as exc:
        return f"No answer to {' and '.join(str(c) for c in parse_constraints(constraints))}: {exc}."
