"""The shipped scenarios as a table: ``vstack-sim scenario --list``.

Each row is a shipped scenario's name (what ``vstack-sim run NAME`` takes), its
simulated duration and the first clause of its description, so the list fits
a terminal. Finding a shipped scenario by name is
:func:`vstack_sim.scenario.files.find_scenario`.
"""

from __future__ import annotations

from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.reading import shipped_scenarios


def _one_line(text: str, limit: int = 90) -> str:
    """The first clause of a description, cut at a word and marked when shortened."""
    text = " ".join(text.split())
    for stop in ("; ", ". "):
        text = text.split(stop)[0]
    text = text.rstrip(".")
    if len(text) > limit:
        text = text[:limit - 1].rsplit(" ", 1)[0] + "…"
    return text


def shipped_table() -> list[dict]:
    """``{name, duration_s, description}`` of every shipped scenario; the description cut to one line."""
    rows = []
    for path in shipped_scenarios():
        config = load_scenario(path)
        rows.append({"name": path.stem, "duration_s": config.run.duration,
                     "description": _one_line(config.description or "")})
    return rows


def _short_duration(seconds: float) -> str:
    """``14 d``, ``30 h``, ``1.5 h``: the largest unit, without trailing zeros."""
    for unit, factor in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= factor:
            return f"{seconds / factor:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{seconds:g} s"


def format_shipped_table(rows: list[dict]) -> str:
    """The shipped scenarios as aligned text: name, simulated duration, one-line description."""
    body = [(r["name"], _short_duration(r["duration_s"]), r["description"]) for r in rows]
    header = ("name", "duration", "description")
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(2)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}".rstrip() for a, b, c in [header, *body]]
    return "\n".join(lines + ["", "Run one by name: vstack-sim run NAME (a file of that name takes precedence)."])
