"""The results folder (docs/results.md): write it atomically, read it back.

A run's folder holds ``scenario.yaml`` (resolved), ``summary.json``,
``tables/*.csv``, ``figures/*.png``, ``report.html``, ``report.md`` and
``manifest.json``. It is written into a ``.tmp-<name>-<pid>-<token>`` folder
beside the target and renamed into place at the end, so an interrupted run
leaves nothing; a ``.tmp-*`` whose process is gone is removed by the next run
that writes beside it.

``run_to_folder`` is what ``vstack-sim run`` does: simulate, write the tables,
then draw the figures and reports from the tables read back, with the same
code as ``vstack-sim report`` (:func:`vstack_sim.report.build_report`).
:func:`load_result` reads a folder back into an object shaped like a
``Result``: ``.config``, ``.summary``, ``.tables`` and ``.reads`` etc.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from .buildinfo import build_info
from .config import Config
from .scenario import config_sha256, load_scenario, to_yaml

TABLES = ("reads", "views", "failures", "repairs", "migrations", "storage_timeline", "losses", "videos",
          "node_events")
"""The tables of a run, in the order they are written (``tables/<name>.csv``)."""

# Text columns: a CSV cannot tell "" from a missing value, so these come back as "" rather than NaN.
_TEXT_COLUMNS = {"mode", "kind", "reason", "source", "from_mode", "to_mode", "event", "video_key"}

_DEPENDENCIES = ("numpy", "pandas", "simpy", "matplotlib", "pyyaml", "reedsolo", "pydantic", "tqdm",
                 "google-crc32c")

DEFAULT_ROOT = Path("results")


class ResultsError(ValueError):
    """A results folder that cannot be written or read; the message is one line."""


# --------------------------------------------------------------------------- JSON and CSV

def _jsonable(value):
    """Builtins only, NaN/inf as null, so summary.json is strict JSON and byte-stable."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dump_json(obj: Any) -> str:
    """Indented strict JSON with a final newline."""
    return json.dumps(_jsonable(obj), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_table(df, path: Path) -> None:
    """One table as CSV: no index, ``\\n`` line ends, floats as their shortest round-trip repr."""
    df.to_csv(path, index=False, lineterminator="\n")


def read_table(path: Path):
    """A table written by :func:`write_table`, with text columns as "" where they were empty."""
    import pandas as pd

    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    for col in _TEXT_COLUMNS.intersection(df.columns):
        df[col] = df[col].fillna("").astype(str)
    return df


# --------------------------------------------------------------------------- reading back

class _LazyTables(Mapping):
    """``name -> DataFrame``, each CSV read on first use (a reads table can be large)."""

    def __init__(self, folder: Path):
        self._folder = folder
        self._names = sorted(p.stem for p in folder.glob("*.csv")) if folder.is_dir() else []
        self._cache: dict = {}

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            self._cache[name] = read_table(self._folder / f"{name}.csv")
        return self._cache[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


class LoadedResult:
    """A results folder read back: ``.config``, ``.summary``, ``.manifest``, ``.tables``, ``.path``.

    Table names are attributes too (``loaded.reads``), as on a simulation ``Result``.
    """

    def __init__(self, path: Path, config: Config, summary: dict, manifest: dict, tables: Mapping):
        self.path = path
        self.config = config
        self.summary = summary
        self.manifest = manifest
        self.tables = tables

    @property
    def reads_sampled(self) -> bool:
        """True when ``tables/reads.csv`` is a uniform sample of the run's chunk reads (see ``Result``)."""
        return len(self.tables["reads"]) < self.summary["reads"]["count"] if "reads" in self.tables else False

    def read_latency_summary(self):
        """Read latency by kind over every read of the run, from summary.json (exact, all reads)."""
        from .metrics import read_latency_summary

        return read_latency_summary(self.summary)

    def __getattr__(self, name):
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(name)

    def __repr__(self):
        return f"LoadedResult({str(self.path)!r}, scenario={self.config.name!r})"


def load_result(path: str | Path) -> LoadedResult:
    """Read a results folder written by ``vstack-sim run``."""
    folder = Path(path)
    if not folder.is_dir():
        raise ResultsError(f"{path}: no such results folder")
    for needed in ("scenario.yaml", "summary.json"):
        if not (folder / needed).is_file():
            raise ResultsError(f"{path}: not a results folder (no {needed})")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: broken JSON: {exc}") from None
    config = load_scenario(folder / "scenario.yaml")
    return LoadedResult(folder, config, summary, manifest, _LazyTables(folder / "tables"))


# --------------------------------------------------------------------------- atomic folders

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale_tmp(parent: Path) -> list[Path]:
    """Remove ``.tmp-*`` folders in ``parent`` left by processes that no longer run; returns them."""
    removed = []
    if not parent.is_dir():
        return removed
    for tmp in parent.glob(".tmp-*"):
        parts = tmp.name.rsplit("-", 2)
        try:
            pid = int(parts[-2])
        except (IndexError, ValueError):
            continue  # not ours
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _looks_replaceable(folder: Path) -> bool:
    """--force replaces results folders and empty folders only, never an arbitrary folder."""
    if not folder.is_dir():
        return False
    return (folder / "manifest.json").is_file() or (folder / "summary.json").is_file() or not any(folder.iterdir())


class AtomicFolder:
    """A temporary folder beside ``target`` that becomes ``target`` on success and vanishes on failure.

    With ``auto`` the final name is the first free one of ``target``, ``target-1``, ``target-2`` ...,
    chosen at the moment of the rename (another run may have taken a name meanwhile). With ``force``
    an existing ``target`` is replaced.
    """

    def __init__(self, target: str | Path, force: bool = False, auto: bool = False):
        self.target = Path(target)
        self.force = force
        self.auto = auto
        self.tmp: Path | None = None
        self.final: Path | None = None

    def __enter__(self) -> AtomicFolder:
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        clean_stale_tmp(parent)
        self.tmp = parent / f".tmp-{self.target.name}-{os.getpid()}-{secrets.token_hex(4)}"
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        try:
            self.final = self._publish()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return False

    def _publish(self) -> Path:
        if self.force and self.target.exists():
            # Move the old folder aside first so that the target name is never missing a folder
            # for long and never holds a mix of old and new files.
            old = self.target.parent / f".tmp-old-{self.target.name}-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(self.target, old)
            os.rename(self.tmp, self.target)
            shutil.rmtree(old, ignore_errors=True)
            return self.target
        candidates = [self.target] if not self.auto else _numbered(self.target)
        for candidate in candidates:
            if candidate.exists():
                continue
            try:
                os.rename(self.tmp, candidate)
            except OSError:
                if not self.auto:
                    raise
                continue  # taken meanwhile by another run
            return candidate
        raise ResultsError(f"{self.target}: already exists (use --force to replace it)")


def _numbered(target: Path) -> Iterator[Path]:
    yield target
    n = 1
    while True:
        yield target.with_name(f"{target.name}-{n}")
        n += 1


def next_free(target: Path) -> Path:
    """``target`` if it does not exist, else the first free ``target-<n>`` (n = 1, 2, ...)."""
    return next(p for p in _numbered(target) if not p.exists())


def choose_target(config: Config, out: str | Path | None, force: bool, root: str | Path = DEFAULT_ROOT
                  ) -> tuple[Path, bool]:
    """The folder a run will write and whether its name may move on (``auto``); errors before running."""
    if out is None:
        return Path(root) / config.name, True
    target = Path(out)
    if target.exists() or target.is_symlink():
        if not force:
            raise ResultsError(f"{out}: already exists (use --force to replace it)")
        if not _looks_replaceable(target):
            raise ResultsError(f"{out}: exists and is not a results folder; --force only replaces results folders")
    return target, False


# --------------------------------------------------------------------------- manifest

def _versions() -> dict:
    out = {}
    for name in ("vstack-sim",) + _DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_manifest(config: Config, argv: Sequence[str] | None, wall_time_s: float, timings: Mapping,
                   out: Path | str | None = None) -> dict:
    """What produced a run: versions, Python, git commit, seed, config SHA-256, command line, timings."""
    command = ["vstack-sim", *argv] if argv is not None else [Path(sys.argv[0]).name, *sys.argv[1:]]
    return {
        "scenario": config.name,
        "seed": config.run.seed,
        "config_sha256": config_sha256(config),
        "command": shlex.join(command),
        "out": str(out) if out is not None else None,
        "versions": _versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Fixed when the package was built (setuptools-scm), never read from the working folder's git.
        **{k: v for k, v in build_info().items() if k != "version"},
        "wall_time_s": round(wall_time_s, 3),
        # The simulator may name its phases build_s, run_s ...; the section's name carries the unit.
        "timings_s": {k.removesuffix("_s"): round(float(v), 3) for k, v in timings.items()},
    }


# --------------------------------------------------------------------------- writing a run

def write_data(folder: Path, config: Config, summary: Mapping, tables: Mapping, manifest: Mapping) -> None:
    """The data part of a results folder: scenario, summary, tables and manifest (no figures).

    Tables are written as given: ``simulate()`` already thins ``reads`` to ``outputs.reads_table_sample``.
    """
    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(to_yaml(config), encoding="utf-8")
    (folder / "summary.json").write_text(dump_json(summary), encoding="utf-8")
    for name in sorted(tables):
        write_table(tables[name], folder / "tables" / f"{name}.csv")
    (folder / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C while a run writes, so its temporary folder is removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _progress_bar(config: Config, quiet: bool):
    """A tqdm bar over simulated days on a terminal; ``(callback, close)``."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    total_days = config.run.duration / 86400.0
    bar = tqdm(total=round(total_days, 3), unit="d", desc=f"{config.name} (simulated days)", file=sys.stderr,
               leave=False, bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} d [{elapsed}]")

    def progress(sim_time_s: float, duration_s: float) -> None:
        bar.n = round(min(sim_time_s, duration_s) / 86400.0, 3)
        bar.refresh()

    return progress, bar.close


def run_to_folder(config: Config, out: str | Path | None = None, force: bool = False, quiet: bool = False,
                  argv: Sequence[str] | None = None, root: str | Path = DEFAULT_ROOT,
                  simulate: Callable | None = None, echo: Callable[[str], None] | None = None) -> Path:
    """Simulate ``config`` and write its results folder; returns the folder.

    ``out`` None means ``<root>/<scenario name>``, or the next free ``-<n>`` name (said through ``echo``).
    An explicit ``out`` that exists is an error unless ``force``. ``argv`` is recorded in the manifest.
    """
    from . import report

    if simulate is None:
        from .simulation import simulate
    echo = echo or (lambda line: print(line, file=sys.stderr))
    target, auto = choose_target(config, out, force, root)
    if auto and target.exists():
        wanted, target = target, next_free(target)
        echo(f"{wanted} exists; writing {target}")
    start = time.perf_counter()
    with _sigterm_as_interrupt(), AtomicFolder(target, force=force, auto=auto) as folder:
        progress, close = _progress_bar(config, quiet)
        try:
            result = simulate(config, progress=progress)
        finally:
            close()
        write_start = time.perf_counter()
        timings = dict(getattr(result, "timings", {}) or {})
        # Written before the figures so the report can show it; the write timing covers the tables.
        manifest = build_manifest(config, argv, time.perf_counter() - start, timings, target)
        write_data(folder.tmp, result.config, result.summary, result.tables, manifest)
        end_state = getattr(result, "catalog", None)
        if end_state is not None and config.outputs.catalog:
            from .catalog_db import CATALOG_FILE, write_catalog

            write_catalog(folder.tmp / CATALOG_FILE, end_state, result.tables)
        manifest["timings_s"]["write"] = round(time.perf_counter() - write_start, 3)
        manifest["wall_time_s"] = round(time.perf_counter() - start, 3)
        (folder.tmp / "manifest.json").write_text(dump_json(manifest), encoding="utf-8")
        report.build_report(folder.tmp)
    if folder.final != target:  # another run took the name while this one ran
        echo(f"{target} was taken meanwhile; wrote {folder.final}")
    return folder.final
