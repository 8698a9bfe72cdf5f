"""Off-peak windows: the hours of the day in which conversions may start a chunk (``migration.windows``).

A window is a pair [start_hour, end_hour) of the simulated day (t = 0 is midnight, as for the workload's
daily cycle); one whose start is after its end wraps midnight ([22, 6] is 22:00 to 06:00). Ceph confines
scrubbing the same way with ``osd_scrub_begin_hour`` / ``osd_scrub_end_hour``. :func:`next_opening` is the
whole arithmetic: the migrator asks it before each chunk and waits until the time it gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["DAY", "HOUR", "next_opening"]

HOUR = 3600.0
DAY = 24 * HOUR


def next_opening(t: float, windows: Iterable[tuple[float, float]]) -> float:
    """The first time at or after ``t`` (seconds) inside one of ``windows`` (hours, [start, end)): ``t`` itself
    when it is inside one or there are none, else the next start of a window.

    A start is inside its window and an end is not: at exactly 06:00, [22, 6] is closed and [6, 8] is open.
    """
    day = math.floor(t / DAY)
    # Exact: t and day x DAY are within a factor of two of each other (or day is 0), so the difference has
    # no rounding, and a time exactly at a boundary is compared as written.
    s = t - day * DAY
    best = math.inf
    for start_h, end_h in windows:
        start, end = start_h * HOUR, end_h * HOUR
        inside = start <= s < end if start < end else (s >= start or s < end)
        if inside:
            return t
        best = min(best, (day if start > s else day + 1) * DAY + start)
    return t if best == math.inf else best
