"""Running a scenario into a results folder: what ``vstack-sim run`` does.

:func:`run_to_folder` checks the target, simulates, writes the data part of
the folder (:mod:`vstack_sim.results.store`), its manifest (:mod:`vstack_sim.results.manifest`)
and then the figures and reports drawn from the tables read back, with the same
code as ``vstack-sim report`` (:func:`vstack_sim.results.report.build_report`), all
inside an atomic folder (:mod:`vstack_sim.results.folders`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vstack_sim.results import report
from vstack_sim.results.folders import AtomicFolder, TargetTaken, check_target, next_free, signals_as_interrupt
from vstack_sim.results.manifest import build_manifest
from vstack_sim.results.store import dump_json, write_data
from vstack_sim.scenario import limits
from vstack_sim.scenario.schema import Config

DEFAULT_ROOT = Path("results")


def choose_target(config: Config, out: str | Path | None, force: bool, root: str | Path = DEFAULT_ROOT
                  ) -> tuple[Path, bool]:
    """The folder a run will write and whether its name may move on (``auto``); errors before running."""
    if out is None:
        target = Path(root) / config.name
        check_target(target, force, auto=True)  # the name moves on to -<n> if taken
        return target, True
    target = Path(out)
    check_target(target, force, shown=str(out))
    return target, False


def _progress_bar(config: Config, quiet: bool):
    """A tqdm bar over simulated days on a terminal; ``(callback, close)``."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    total_days = config.run.duration / 86400.0
    bar = tqdm(total=round(total_days, 3), unit="d", desc=f"{config.name} (simulated days)", file=sys.stderr,
               leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} d [{elapsed}<{remaining}, ETA]")

    def progress(sim_time_s: float, duration_s: float) -> None:
        bar.n = round(min(sim_time_s, duration_s) / 86400.0, 3)
        bar.refresh()

    return progress, bar.close


def run_to_folder(config: Config, out: str | Path | None = None, force: bool = False, quiet: bool = False,
                  argv: Sequence[str] | None = None, root: str | Path = DEFAULT_ROOT,
                  simulate: Callable | None = None, echo: Callable[[str], None] | None = None,
                  allow_huge: bool = False) -> Path:
    """Simulate ``config`` and write its results folder; returns the folder.

    ``out`` None means ``<root>/<scenario name>``, or the next free ``-<n>`` name (said through ``echo``).
    An explicit ``out`` that exists is an error unless ``force``; one taken (or, with ``force``, made
    unreplaceable) while the run went on raises :class:`~vstack_sim.results.folders.TargetTaken` once the results
    are safe under the next free name. ``argv`` is recorded in the manifest.
    ``allow_huge`` lifts the up-front resource limits (:mod:`vstack_sim.scenario.limits`).
    """
    limits.check(config, allow_huge=allow_huge)
    if simulate is None:
        from functools import partial

        from vstack_sim.model.simulation import simulate as simulate_checked

        simulate = partial(simulate_checked, check=False)  # checked just above, before the folder is taken
    echo = echo or (lambda line: print(line, file=sys.stderr))
    target, auto = choose_target(config, out, force, root)
    if auto and target.exists():
        wanted, target = target, next_free(target)
        echo(f"{wanted} exists; writing {target}")
    start = time.perf_counter()
    with signals_as_interrupt(), AtomicFolder(target, force=force, auto=auto, fallback=True) as folder:
        progress, close = _progress_bar(config, quiet)
        try:
            result = simulate(config, progress=progress)
        finally:
            close()
        try:
            write_start = time.perf_counter()
            timings = dict(getattr(result, "timings", {}) or {})
            # Written before the figures so the report can show it; the write timing covers the tables.
            manifest = build_manifest(config, argv, time.perf_counter() - start, timings, target)
            write_data(folder.tmp, result.config, result.summary, result.tables, manifest)
            end_state = getattr(result, "catalog", None)
            if end_state is not None and config.outputs.catalog:
                from vstack_sim.results.catalog_db import CATALOG_FILE, write_catalog

                write_catalog(folder.tmp / CATALOG_FILE, end_state, result.tables)
            manifest["timings_s"]["write"] = round(time.perf_counter() - write_start, 3)
            manifest["wall_time_s"] = round(time.perf_counter() - start, 3)
            (folder.tmp / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")
            report.build_report(folder.tmp)
        except OSError as exc:  # e.g. a full disk: name the folder the user asked for, not the temporary one
            raise OSError(exc.errno, f"cannot write the results folder: {exc.strerror or exc}", str(target)) from None
    if folder.final != target and auto:  # another run took the default name while this one ran
        echo(f"{target} was taken meanwhile; wrote {folder.final}")
    elif folder.final != target:
        # Something took the folder asked for while this run went on: nothing of theirs is touched and
        # the run is not thrown away, but a caller that asked for this folder must hear it did not get it.
        why = folder.refused or f"{target}: created by something else while this run went on"
        raise TargetTaken(f"{why}; this run's results are in {folder.final}", folder.final)
    return folder.final
