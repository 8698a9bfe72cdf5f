"""Every check of the model, by name: :func:`specs`, :func:`select`, :func:`run_checks`, and the table."""

from __future__ import annotations

import math
from collections.abc import Sequence

from vstack_sim.validation.check import SIZES, CheckResult, CheckSpec, run_spec, significant
from vstack_sim.validation.durability_checks import backblaze_checks, importance_checks, mttdl_checks
from vstack_sim.validation.queue_checks import queue_checks
from vstack_sim.validation.system_checks import system_checks


def specs() -> list[CheckSpec]:
    """Every check, in the table's order."""
    return mttdl_checks() + backblaze_checks() + importance_checks() + system_checks()[:2] + queue_checks() \
        + system_checks()[2:]


def names() -> list[str]:
    return [s.name for s in specs()]


def select(only: Sequence[str] | None = None, size: str = "quick") -> list[CheckSpec]:
    """The checks that run at ``size``; ``only`` keeps those named, or whose name starts with ``NAME-``
    (``mttdl`` keeps every MTTDL check). An unknown name is a ValueError naming it."""
    if size not in SIZES:
        raise ValueError(f"size: must be one of {SIZES}, got {size!r}")
    every = specs()
    chosen = [s for s in every if size in s.sizes]
    if not only:
        return chosen
    for name in only:
        if not any(s.name == name or s.name.startswith(name + "-") for s in every):
            raise ValueError(f"--only: unknown check {name!r} (known: {', '.join(s.name for s in every)})")
    return [s for s in chosen if any(s.name == n or s.name.startswith(n + "-") for n in only)]


def run_checks(full: bool = False, only: Sequence[str] | None = None) -> list[CheckResult]:
    """Run the checks (quick size, or ``full``), each measured and judged."""
    size = "full" if full else "quick"
    return [run_spec(s, size) for s in select(only, size)]


def all_passed(results: Sequence[CheckResult]) -> bool:
    """True when no check failed (a check that cannot be made does not fail)."""
    return all(r.passed is not False for r in results)


def _num(x: float | None, figures: int | None = None) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    if figures is not None:
        return significant(x, figures)
    if x == int(x) and abs(x) >= 1e4:
        return f"{int(x):,}"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e7):
        return significant(x, 4)
    return f"{x:.6g}"


def rows(results: Sequence[CheckResult]) -> list[dict]:
    """One row per check for the table: name, source, expected, simulated [interval], status."""
    out = []
    for r in results:
        m, fig = r.measurement, r.figures
        if m is None:
            sim = "-"
        elif m.lo is None:
            sim = _num(m.value, fig)
        else:
            sim = f"{_num(m.value)} [{_num(m.lo)}, {_num(m.hi)}]"
        out.append({"check": r.name, "source": r.source, "expected": f"{_num(r.expected, fig)} {r.unit}",
                    "simulated": sim, "result": r.status})
    return out


def table(results: Sequence[CheckResult]) -> str:
    """The results as a plain-text table, then one line per check that cannot be made, with why."""
    data = rows(results)
    head = ["check", "source", "expected", "simulated", "result"]
    width = {h: max([len(h)] + [len(d[h]) for d in data]) for h in head}
    lines = ["  ".join(h.ljust(width[h]) for h in head).rstrip()]
    lines += ["  ".join(d[h].ljust(width[h]) for h in head).rstrip() for d in data]
    lines += [f"{r.name}: not checkable: {r.note}" for r in results if r.passed is None]
    failed = sum(r.passed is False for r in results)
    done = sum(r.passed is not None for r in results)
    lines.append(f"{done - failed} of {done} checks pass" + (f", {failed} FAIL" if failed else ""))
    return "\n".join(lines)
