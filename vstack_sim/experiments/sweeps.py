"""Sweeps: a grid of scenarios x replications, run on any executor, with intervals and paired comparisons.

``vstack_sim.sweep(base, grid=..., zip=..., replications=..., executor=..., out=...)``
expands the grid (:mod:`vstack_sim.experiments.sweep_spec`), validates every point, runs
every (point, replication) on the executor (:mod:`vstack_sim.experiments.executors`) and
returns a :class:`Sweep`:

* ``Sweep.runs``: one row per run: point, replication, seed, folder, the grid
  values (resolved to base units) and the summary flattened to dotted columns;
* ``Sweep.points``: per point and metric, the mean with a 95 % interval (t for
  means, Wilson for proportions such as ``durability.any_loss``, the
  exponential interval of ``durability.mttdl_s`` for ``stop_at_first_loss``
  points, and the pooled weighted estimate of ``loss_estimate.probability`` for
  one-stripe durability runs);
* ``Sweep.compare(metric, by=..., baseline=...)``: paired differences per
  replication against a baseline value (common random numbers).

With ``out`` the sweep writes ``out/`` (layout in ``docs/distributed.md``):
``sweep.yaml`` and ``base.yaml`` (resolved), ``manifest.json``,
``runs/<point>-r<i>/`` (ordinary results folders, each written atomically by
the client as soon as its run ends), then ``runs.csv``, ``points.csv`` and
``report.html``. ``resume=True`` keeps every run folder that has its
``summary.json`` and runs the rest, after checking that the sweep and its base
scenario are the ones the folder was started with.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vstack_sim.experiments.constraints import parse_constraints
from vstack_sim.experiments.intervals import MTTDL, metric_interval, paired_table, summary_row
from vstack_sim.experiments.sweep_files import load_sweep, make_sweep
from vstack_sim.experiments.sweep_spec import RunSpec, SweepError, SweepSpec
from vstack_sim.results.folders import AtomicFolder
from vstack_sim.results.manifest import build_manifest
from vstack_sim.results.store import ResultsError, dump_json, load_result, write_data
from vstack_sim.scenario import limits
from vstack_sim.scenario.emit import config_dict, to_yaml
from vstack_sim.scenario.schema import Config

RUN_COLUMNS = ("point", "replication", "seed", "folder")
"""The bookkeeping columns that start every row of runs.csv."""


# --------------------------------------------------------------------------- one run, on a worker

def execute_run(task: dict) -> dict:
    """Simulate one run; with ``task["target"]`` also build its results folder in a scratch folder
    and return the files (the client writes them), so workers need no shared filesystem."""
    from vstack_sim.model.simulation import simulate
    from vstack_sim.results import report

    config: Config = task["config"]
    t0 = time.perf_counter()
    result = simulate(config, allow_huge=task.get("allow_huge", False))  # the up-front checks again: cheap
    summary = json.loads(dump_json(result.summary))  # exactly what summary.json reads back as
    out = {"index": task["index"], "summary": summary, "files": None}
    if task.get("target") is None:
        return out
    with tempfile.TemporaryDirectory(prefix="vstack-sim-run-") as scratch:
        folder = Path(scratch) / "run"
        manifest = build_manifest(config, [], time.perf_counter() - t0, result.timings, task["target"])
        manifest["command"] = task["command"]  # the sweep's, not this worker process's
        manifest["sweep"] = task["meta"]
        write_data(folder, result.config, result.summary, result.tables, manifest)
        report.build_report(folder)
        out["files"] = {p.relative_to(folder).as_posix(): p.read_bytes()
                        for p in sorted(folder.rglob("*")) if p.is_file()}
    return out


def _write_run(target: Path, files: dict) -> None:
    with AtomicFolder(target) as folder:
        for rel, data in files.items():
            path = folder.tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


# --------------------------------------------------------------------------- tables

def _config_value(config: Config, key: str):
    node = config_dict(config)
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) or part not in node else node[part]
    return json.dumps(node, sort_keys=True) if isinstance(node, (dict, list)) else node


def runs_frame(spec: SweepSpec, runs: Sequence[RunSpec], summaries: dict[int, dict]) -> pd.DataFrame:
    """One row per run in run order; a missing summary (unfinished run) leaves its metrics empty."""
    rows = []
    for run in runs:
        cfg = spec.point_config(run.point)
        row = {"point": run.point.name, "replication": run.replication, "seed": run.seed, "folder": run.folder}
        row.update({key: _config_value(cfg, key) for key in spec.keys})
        summary = summaries.get(run.index)
        if summary is not None:
            row.update(summary_row(summary))
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame


def _metric_columns(runs: pd.DataFrame, skip: set) -> list[str]:
    out = []
    for col in runs.columns:
        if col in skip:
            continue
        s = runs[col].dropna()
        if s.empty:
            continue
        if pd.api.types.is_bool_dtype(s) or all(isinstance(v, (bool, np.bool_)) for v in s):
            out.append(col)
        elif pd.api.types.is_numeric_dtype(s):
            out.append(col)
    return out


def points_frame(spec: SweepSpec, runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per point and metric: n, mean, lo, hi and the interval's method (long format)."""
    skip = set(RUN_COLUMNS) | set(spec.keys) | {"run.seed"}
    metrics = _metric_columns(runs, skip)
    rows = []
    for point in spec.points():
        part = runs[runs["point"] == point.name]
        head = {"point": point.name, **{k: part[k].iloc[0] if len(part) else None for k in spec.keys}}
        stop = spec.point_config(point).run.stop_at_first_loss
        for metric in metrics + ([MTTDL] if stop else []):
            rows.append({**head, "metric": metric, **metric_interval(part, metric, stop, level).as_dict()})
    return pd.DataFrame(rows, columns=["point", *spec.keys, "metric", "n", "mean", "lo", "hi", "method"])


# --------------------------------------------------------------------------- the result

class Sweep:
    """A finished (or loaded) sweep: ``spec``, ``runs``, ``points``, ``path`` (None when kept in memory)."""

    def __init__(self, spec: SweepSpec, runs: pd.DataFrame, path: Path | None = None,
                 points: pd.DataFrame | None = None):
        self.spec = spec
        self.runs = runs
        self.path = path
        self.points = points if points is not None else points_frame(spec, runs)

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return f"Sweep({self.spec.name!r}, points={self.spec.n_points()}, runs={len(self.runs)}{where})"

    @classmethod
    def load(cls, path: str | Path) -> "Sweep":
        """A sweep folder read back (``sweep.yaml``, ``base.yaml``, ``runs.csv``)."""
        folder = Path(path)
        if not (folder / "runs.csv").is_file():
            raise ResultsError(f"{path}: not a finished sweep folder (no runs.csv)")
        spec = load_sweep(folder / "sweep.yaml")
        return cls(spec, _read_runs(folder / "runs.csv"), folder)

    def metric(self, name: str) -> pd.DataFrame:
        """One metric's row per point: the grid values, n, mean, lo, hi."""
        rows = self.points[self.points["metric"] == name]
        if rows.empty:
            known = ", ".join(sorted(self.points["metric"].unique())[:8])
            raise KeyError(f"no metric {name!r} in this sweep (e.g. {known}, ...)")
        return rows.drop(columns=["metric"]).reset_index(drop=True)

    def result(self, folder: str):
        """The results folder of one run (``<point>-r<i>``), read back."""
        if self.path is None:
            raise ResultsError("this sweep was kept in memory (no out=); it has no run folders")
        return load_result(self.path / "runs" / folder)

    def compare(self, metric: str, by: str | None = None, baseline=None, level: float = 0.95) -> pd.DataFrame:
        """Paired differences ``metric(value) - metric(baseline)`` per replication, with a t-interval."""
        return paired_table(self, metric, by, baseline, level)


def _read_runs(path: Path) -> pd.DataFrame:
    """runs.csv read back, refused in one line naming it when empty, broken or without its columns."""
    from vstack_sim.results.store import read_table

    try:
        runs = read_table(path)   # text cells unescaped (docs/results.md, spreadsheets)
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas: ParserError, ...
        first = " ".join(str(exc).split())[:200]
        raise ResultsError(f"{path}: cannot read the table: {first}") from None
    missing = [c for c in RUN_COLUMNS if c not in runs.columns]
    if missing:
        raise ResultsError(f"{path}: no column {', '.join(missing)}; not the runs.csv of a vstack-sim sweep")
    if runs.empty:
        raise ResultsError(f"{path}: no runs; not the runs.csv of a finished sweep")
    return runs


# --------------------------------------------------------------------------- running

def _check_resume(spec: SweepSpec, folder: Path) -> None:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise SweepError(f"--resume: {folder}: no sweep was started there (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise SweepError(f"--resume: {folder}/manifest.json: broken JSON") from None
    now = spec.fingerprint()
    if manifest.get("sweep_sha256") != now["sweep_sha256"]:
        raise SweepError(f"--resume: the sweep file changed since {folder} was started (grid, set, replications, "
                         "seed or name differ); start a new sweep with another --out")
    if manifest.get("base_sha256") != now["base_sha256"]:
        raise SweepError(f"--resume: the base scenario {spec.base_label} changed since {folder} was started; "
                         "start a new sweep with another --out")


def _finished_summary(path: Path) -> dict:
    """A finished run's summary.json for --resume; a damaged one is refused in one line (nothing has run yet)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError) as exc:   # JSONDecodeError and UnicodeDecodeError are ValueErrors
        why = "broken JSON" if isinstance(exc, ValueError) else f"cannot read it ({exc})"
        raise SweepError(f"--resume: {path}: {why}; remove {path.parent} and --resume again to rerun that run"
                         ) from None
    if not isinstance(data, dict):
        raise SweepError(f"--resume: {path}: not a run's summary; remove {path.parent} and --resume again")
    return data


def check_limits(spec: SweepSpec, allow_huge: bool = False) -> None:
    """Refuse the sweep before its first run if any point cannot fit or cannot end (what ``run`` refuses).

    Every point's scenario goes through :func:`vstack_sim.scenario.limits.check`; the error names the point.
    ``allow_huge`` lifts the memory and event limits, never the hard ones.
    """
    for point in spec.points():
        try:
            limits.check(spec.point_config(point), allow_huge=allow_huge)
        except limits.ResourceError as exc:
            raise SweepError(f"point {point.name}: {exc}") from None


def check_out(spec: SweepSpec, folder: Path, resume: bool) -> None:
    """Refuse a sweep folder that cannot be used, before any executor or cluster is started."""
    if resume:
        _check_resume(spec, folder)
    elif folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise SweepError(f"{folder}: already exists (use --resume to continue that sweep, or another --out)")


def _start_folder(spec: SweepSpec, folder: Path, command: str, executor: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runs").mkdir(exist_ok=True)
    (folder / "base.yaml").write_text(to_yaml(spec.base), encoding="utf-8")
    (folder / "sweep.yaml").write_text(spec.to_yaml(), encoding="utf-8")
    probe = build_manifest(spec.base, None, 0.0, {}, folder)
    manifest = {"kind": "sweep", "sweep": spec.name, **spec.fingerprint(), "status": "running",
                "points": spec.n_points(), "replications": spec.replications,
                "runs": spec.n_points() * spec.replications,
                "command": command, "executor": executor, "out": str(folder), "versions": probe["versions"],
                "python": probe["python"], "git_commit": probe["git_commit"]}
    (folder / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")
    return manifest


def _progress(total: int, done: int, enabled: bool | None, name: str):
    """A tqdm bar over runs with ETA on a terminal; ``(update, close)``."""
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return (lambda: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, initial=done, unit="run", desc=f"sweep {name}", file=sys.stderr, smoothing=0.1,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} runs [{elapsed}<{remaining}, ETA]")
    return (lambda: bar.update(1)), bar.close


def run_sweep(spec: SweepSpec, executor=None, out: str | Path | None = None, resume: bool = False,
              progress: bool | None = None, argv: Sequence[str] | None = None,
              on_start: Callable[[str], None] | None = None, allow_huge: bool = False, require=None) -> Sweep:
    """Run a validated :class:`SweepSpec`; see :func:`sweep`."""
    from vstack_sim.experiments.executors import map_batched, process_pool

    check_limits(spec, allow_huge)  # every point, before the first run
    require = parse_constraints(require or [])  # and every constraint
    runs = spec.runs()
    folder = Path(out) if out is not None else None
    command = shlex.join(["vstack-sim", *argv] if argv is not None else sys.argv)
    summaries: dict[int, dict] = {}
    if folder is not None:
        check_out(spec, folder, resume)
        for run in runs:
            done = folder / "runs" / run.folder / "summary.json"
            if resume and done.is_file():
                summaries[run.index] = _finished_summary(done)
    own_pool = executor is None
    if own_pool:
        executor = process_pool()
    description = type(executor).__name__
    t0 = time.perf_counter()
    try:
        if folder is not None and not resume:
            _start_folder(spec, folder, command, description)
        if on_start is not None:
            on_start(f"{len(runs) - len(summaries)} of {len(runs)} runs to go")
        update, close = _progress(len(runs), len(summaries), progress, spec.name)
        by_index = {run.index: run for run in runs}

        def tasks():
            for run in runs:
                if run.index in summaries:
                    continue
                task = {"index": run.index, "config": spec.run_config(run), "target": None, "allow_huge": allow_huge}
                if folder is not None:
                    task.update(target=str(folder / "runs" / run.folder), command=command,
                                meta={"name": spec.name, "point": run.point.name, "replication": run.replication,
                                      "grid": run.point.values})
                yield task

        def finished(out: dict) -> None:
            if out["files"] is not None:
                _write_run(folder / "runs" / by_index[out["index"]].folder, out["files"])
            summaries[out["index"]] = out["summary"]
            update()

        try:
            map_batched(execute_run, tasks(), executor, finished)
        finally:
            close()
    finally:
        if own_pool:
            executor.shutdown(wait=True, cancel_futures=True)
    result = Sweep(spec, runs_frame(spec, runs, summaries), folder)
    if folder is not None:
        _finish_folder(result, time.perf_counter() - t0, require)
    return result


def _finish_folder(result: Sweep, wall_s: float, require=None) -> None:
    from vstack_sim.experiments import sweep_report
    from vstack_sim.results.store import write_table

    folder = result.path
    write_table(result.runs, folder / "runs.csv")
    write_table(result.points, folder / "points.csv")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["status"] = "complete"
    manifest["last_wall_time_s"] = round(wall_s, 3)
    (folder / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")
    sweep_report.build(result, require)   # after the manifest is final: the report embeds it


def sweep(base: Config | str | Path, grid: dict | None = None, zip: dict | None = None, replications: int = 1,
          executor=None, out: str | Path | None = None, *, seed: int | None = None, set: dict | None = None,
          name: str | None = None, description: str = "", compare: dict | None = None, resume: bool = False,
          progress: bool | None = None, allow_huge: bool = False, require=None) -> Sweep:
    """Run ``base`` (a Config or a scenario path) over ``grid`` x ``zip`` x ``replications``.

    ``grid``: {dotted key: [values]} (cartesian product); ``zip``: {key: [values]} varied together,
    one more axis; ``seed``: root of the replications' seeds (default the base's run.seed);
    ``set``: overrides of the base for every run; ``executor``: any ``concurrent.futures.Executor``
    (default a process pool over the cores); ``out``: write the sweep folder there (default: keep
    summaries in memory only). The whole grid is validated before anything runs, and every point must pass
    the up-front limits of ``vstack-sim run`` (:func:`check_limits`); ``allow_huge`` lifts the memory and
    event limits, as ``--allow-huge`` does; ``require``: constraints such as ``"reads.latency_ms.all.p99<=60"``
    whose cheapest meeting point the report names (:mod:`.constraints`).
    """
    spec = make_sweep(base, grid=grid, zip=zip, replications=replications, seed=seed, set=set, name=name,
                      description=description, compare=compare)
    return run_sweep(spec, executor=executor, out=out, resume=resume, progress=progress, allow_huge=allow_huge,
                     require=require)


__all__ = ["Sweep", "sweep", "run_sweep", "check_limits", "load_sweep", "make_sweep", "SweepError"]
