"""The results folder's data (docs/results.md): its files in strict JSON and CSV, written and read back.

A run's folder holds ``scenario.yaml`` (resolved), ``summary.json``,
``tables/*.csv``, ``figures/*.png``, ``report.html``, ``report.md`` and
``manifest.json``. This module writes and reads the data part;
:func:`load_result` reads a folder back into an object shaped like a
``Result``: ``.config``, ``.summary``, ``.tables`` and ``.reads`` etc.
Writing a folder atomically is :mod:`vstack_sim.results.folders`, the manifest
:mod:`vstack_sim.results.manifest`, and running a scenario into a folder
:mod:`vstack_sim.results.runner`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vstack_sim.results.stripe_report import REPLICATED_MODELS
from vstack_sim.scenario.emit import to_yaml
from vstack_sim.scenario.files import load_scenario
from vstack_sim.scenario.legacy import rules_for
from vstack_sim.scenario.reading import read_yaml
from vstack_sim.scenario.schema import Config

TABLES = ("reads", "views", "failures", "repairs", "migrations", "storage_timeline", "losses", "videos",
          "node_events")
"""The tables of a run, in the order they are written (``tables/<name>.csv``)."""

# Text columns: a CSV cannot tell "" from a missing value, so these come back as "" rather than NaN.
_TEXT_COLUMNS = {"mode", "kind", "reason", "source", "from_mode", "to_mode", "event", "video_key"}


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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection")."""


def escape_cell(text: str) -> str:
    """A text cell as written: a leading ``'`` when it starts like a formula, or with ``'`` itself.

    OWASP's advice: ``=cmd|' /C calc'!A0`` is written ``'=cmd|' /C calc'!A0``, which a spreadsheet shows as
    text. A cell that already starts with ``'`` gains one too, so :func:`unescape_cell` is exact.
    """
    return "'" + text if text[:1] in FORMULA_STARTS or text[:1] == "'" else text


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given."""
    return text[1:] if text[:1] == "'" else text


def _escaped(df):
    """``df`` with every text cell escaped (a copy only when a cell changes)."""
    out = df
    for col in df.columns:
        values = df[col]
        if values.dtype.kind not in "OUST" and str(values.dtype) not in ("str", "string"):
            continue
        hit = values.map(lambda v: isinstance(v, str) and escape_cell(v) != v).to_numpy(dtype=bool)
        if hit.any():
            if out is df:
                out = df.copy()
            out[col] = [escape_cell(v) if h else v for v, h in zip(values.tolist(), hit.tolist(), strict=True)]
    return out


def write_table(df, path: Path) -> None:
    """One table as CSV: no index, ``\\n`` line ends, floats as their shortest round-trip repr.

    Text cells that a spreadsheet would run as a formula are escaped (:func:`escape_cell`): a video id from a
    ``catalog.source`` file, a sweep's values and labels are the user's text.
    """
    _escaped(df).to_csv(path, index=False, lineterminator="\n")


def read_table(path: Path):
    """A table written by :func:`write_table`: text columns as written ("" where empty), cells unescaped."""
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    text = [c for c in header if c in _TEXT_COLUMNS]
    # Text columns are read as text, with no NA values: an id "007" stays "007", an id "NA" stays "NA".
    df = pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                     na_values={c: [""] for c in header if c not in _TEXT_COLUMNS})
    for col in df.columns:
        if col in _TEXT_COLUMNS or df[col].dtype.kind == "O" or str(df[col].dtype) in ("str", "string"):
            df[col] = df[col].map(lambda v: unescape_cell(v) if isinstance(v, str) else v)
    for col in text:
        df[col] = df[col].astype(str)
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
            path = self._folder / f"{name}.csv"
            try:
                self._cache[name] = read_table(path)
            except (ValueError, OSError) as exc:  # a binary or truncated file; pandas says ParserError etc.
                first = " ".join(str(exc).split())[:200]
                raise ResultsError(f"{path}: cannot read the table: {first}") from None
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
        from vstack_sim.model.metrics import read_latency_summary

        return read_latency_summary(self.summary)

    def __getattr__(self, name):
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(name)

    def __repr__(self):
        return f"LoadedResult({str(self.path)!r}, scenario={self.config.name!r})"


SUMMARY_SECTIONS = ("run", "storage", "storage_initial", "reads", "recovery", "durability", "migrations")
"""Sections every summary.json has; a file without them is not a run's summary."""

MAX_JSON_BYTES = 64 * 2**20


def _read_json(path: Path, shown: str, required: bool):
    try:
        if not path.is_file():
            if required:
                raise ResultsError(f"{shown}: not a results folder (no {path.name})")
            return {}
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ResultsError(f"{shown}/{path.name}: larger than {MAX_JSON_BYTES // 2**20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(f"{shown}/{path.name}: not a text file") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{shown}/{path.name}: broken JSON: {exc}") from None
    except RecursionError:
        raise ResultsError(f"{shown}/{path.name}: nested too deeply") from None
    except OSError as exc:
        raise ResultsError(f"{shown}/{path.name}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{shown}/{path.name}: expected a JSON object, got a {type(data).__name__}")
    return data


def load_result(path: str | Path) -> LoadedResult:
    """Read a results folder written by ``vstack-sim run``."""
    folder = Path(path)
    if not folder.is_dir():
        raise ResultsError(f"{path}: no such results folder")
    if not (folder / "scenario.yaml").is_file():
        raise ResultsError(f"{path}: not a results folder (no scenario.yaml)")
    summary = _read_json(folder / "summary.json", str(path), required=True)
    sections = REPLICATED_MODELS.get(summary.get("model"), SUMMARY_SECTIONS)   # replicated durability runs: theirs
    missing = [key for key in sections if not isinstance(summary.get(key), dict)]
    if missing:
        raise ResultsError(f"{path}/summary.json: not a run's summary (no {missing[0]!r} section)")
    manifest = _read_json(folder / "manifest.json", str(path), required=False)
    stored, _ = read_yaml(folder / "scenario.yaml", f"{path}/scenario.yaml")
    config = load_scenario(folder / "scenario.yaml", overrides=rules_for(stored))   # an older run's own rules
    return LoadedResult(folder, config, summary, manifest, _LazyTables(folder / "tables"))


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


