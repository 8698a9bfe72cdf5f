"""Scenario files: YAML read with ``yaml.safe_load`` semantics and validated by the schema.

A scenario file is a mapping of the keys of :class:`vstack_sim.scenario.schema.Config`.
It may ``extends:`` another file (path relative to the extending file): the
base is loaded first and the file's own keys are deep-merged over it
(mappings merge key by key; lists and scalars replace). Command-line
overrides ``--set a.b.c=value`` come last; their values are parsed as YAML
scalars (``1d``, ``true``, ``200MB/s``), never evaluated.

Every problem raises :class:`ScenarioError`, whose message is one line that
names the key path and, where known, the file and line, e.g.
``scenarios/x.yaml:12: cluster.nodez: unknown key (did you mean 'nodes'?)``.
The CLI prints that line and exits 2.

Also here: the resolved scenario as YAML (what a results folder stores), its
canonical JSON and SHA-256 (the manifest's fingerprint), and the generated
reference of every key (``vstack-sim scenario --schema``,
``docs/scenario-reference.md``).
"""

from __future__ import annotations

import copy
import difflib
import errno
import hashlib
import json
import re
import stat
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, BeforeValidator, ValidationError

from vstack_sim.scenario import units
from vstack_sim.scenario.schema import Config, validation_error_line

_PACKAGE = Path(__file__).resolve().parent.parent
# Installed: vstack_sim/scenarios (package data); in a checkout: the repository's scenarios/.
SCENARIO_DIR = next((d for d in (_PACKAGE / "scenarios", _PACKAGE.parent / "scenarios") if d.is_dir()),
                    _PACKAGE.parent / "scenarios")
"""The shipped scenarios (a source checkout's ``scenarios/`` folder)."""


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or is invalid; the message is one line."""


# --------------------------------------------------------------------------- reading files

def _node_lines(node, path: tuple, origin: str, out: dict, seen_dupes: list) -> None:
    """Record ``path -> "file:line"`` for every key and list item under a composed YAML node."""
    if isinstance(node, yaml.MappingNode):
        keys_here = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in keys_here:
                # safe_load silently keeps the last duplicate; in a scenario that is always a mistake.
                seen_dupes.append((path + (key,), key_node.start_mark.line + 1))
            keys_here.add(key)
            out[path + (key,)] = f"{origin}:{key_node.start_mark.line + 1}"
            _node_lines(value_node, path + (key,), origin, out, seen_dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (str(i),)] = f"{origin}:{item.start_mark.line + 1}"
            _node_lines(item, path + (str(i),), origin, out, seen_dupes)


MAX_FILE_BYTES = 2**20
"""Largest scenario file read (1 MiB); a scenario is a page of settings, never data."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a scenario file or ``--set`` value."""
MAX_NODES = 100_000
"""Most YAML nodes a document may expand to, aliases counted at every use (stops "billion laughs")."""
MAX_EXTENDS = 32
"""Longest chain of ``extends``."""


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses deep nesting while composing and keeps huge integers as text.

    Python refuses to turn more than 4,300 digits into an int; the text then fails validation with
    the key's name instead of escaping as a bare ValueError.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            return self.construct_scalar(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(node) -> None:
    """Refuse a composed document that expands (aliases followed) beyond MAX_NODES or MAX_DEPTH, or loops."""
    memo: dict[int, tuple[int, int]] = {}   # id(node) -> (values it expands to, its height)
    active: set[int] = set()

    def too_deep(n):
        return yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels (through "
                                           "aliases)", n.start_mark)

    def walk(n, depth: int) -> tuple[int, int]:
        key = id(n)
        if key in memo:
            total, height = memo[key]
            if depth + height > MAX_DEPTH:
                raise too_deep(n)
            return total, height
        if depth > MAX_DEPTH:
            raise too_deep(n)
        if key in active:
            raise yaml.composer.ComposerError(None, None, "an alias refers to its own anchor", n.start_mark)
        active.add(key)
        children = ([c for pair in n.value for c in pair] if isinstance(n, yaml.MappingNode)
                    else n.value if isinstance(n, yaml.SequenceNode) else [])
        total, height = 1, 0
        for child in children:
            t, h = walk(child, depth + 1)
            total += t
            height = max(height, h + 1)
            if total > MAX_NODES:
                raise yaml.composer.ComposerError(None, None, f"expands to more than {MAX_NODES:,} values "
                                                  "(aliases repeated?)", n.start_mark)
        active.discard(key)
        memo[key] = (total, height)
        return total, height

    walk(node, 0)


def _compose(text: str):
    """(node, data) of one YAML document, composed and constructed as yaml.safe_load does, within the limits."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        try:
            return node, loader.construct_document(node)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp like 2024-13-45
            raise yaml.constructor.ConstructorError(None, None, f"bad value: {' '.join(str(exc).split())}",
                                                    node.start_mark) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, shown: str) -> ScenarioError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{shown}:{mark.line + 1}" if mark is not None else shown
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ScenarioError(f"{where}: malformed YAML: {problem}")


def _read_text(path: Path, shown: str) -> str:
    """A scenario file's text: a regular file of at most MAX_FILE_BYTES of UTF-8."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{shown}: scenario file not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ScenarioError(f"{shown}: symbolic link loop") from None
        raise ScenarioError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(f"{shown}: is a folder, not a scenario file")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(f"{shown}: not a regular file")
    too_big = f"{shown}: larger than {MAX_FILE_BYTES // 2**20} MiB, the limit for scenario files"
    if st.st_size > MAX_FILE_BYTES:
        raise ScenarioError(too_big)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(too_big)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{shown}: not UTF-8 text") from None


def _read_yaml(path: Path, shown: str) -> tuple[dict, dict]:
    """One file's mapping and the line of each of its keys. ``shown`` is the path used in messages."""
    text = _read_text(path, shown)
    # SafeLoader composes and constructs exactly as yaml.safe_load does; composing first keeps the node
    # marks, so errors can point at a line.
    try:
        node, data = _compose(text)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, shown) from None
    if data is None:
        # A truncated or unsaved file is a mistake more often than a request for the defaults.
        raise ScenarioError(f"{shown}: empty scenario file (write {{}} to ask for every default)")
    if not isinstance(data, dict):
        raise ScenarioError(f"{shown}:1: a scenario must be a mapping of keys, got a {type(data).__name__}")
    lines: dict = {}
    dupes: list = []
    _node_lines(node, (), shown, lines, dupes)
    if dupes:
        key_path, line = dupes[0]
        raise ScenarioError(f"{shown}:{line}: {'.'.join(key_path)}: duplicate key")
    return data, lines


def _drop(lines: dict, path: tuple) -> None:
    for p in [p for p in lines if p[:len(path)] == path]:
        del lines[p]


def _merge(base: dict, over: dict, lines: dict, over_lines: dict, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` into a copy of ``base``; ``lines`` (the base's) is updated to match the result."""
    merged = dict(base)
    for key, value in over.items():
        path = prefix + (str(key),)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, lines, over_lines, path)
            if path in over_lines:
                lines[path] = over_lines[path]
        else:
            # A replaced subtree's old lines would point at the base file for keys that no longer exist.
            _drop(lines, path)
            lines.update({p: w for p, w in over_lines.items() if p[:len(path)] == path})
            merged[key] = value
    return merged


def _shown(path: Path) -> str:
    """A path as the user would recognise it: relative to the working folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def load_file(path: str | Path, _chain: tuple = ()) -> tuple[dict, dict]:
    """The raw merged mapping of a scenario file (``extends`` resolved) and each key's ``file:line``."""
    path = Path(path)
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before Python 3.13)
        raise ScenarioError(f"{path}: symbolic link loop") from None
    shown = _shown(path)
    if len(_chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{shown}: extends: a chain of more than {MAX_EXTENDS} files")
    if real in _chain:
        cycle = " -> ".join(_shown(p) for p in _chain + (real,))
        raise ScenarioError(f"{shown}: extends cycle: {cycle}")
    data, lines = _read_yaml(path, shown)
    _resolve_data_files(data, path.parent)
    base_ref = data.pop("extends", None)
    extends_at = lines.pop(("extends",), shown)
    if base_ref is None:
        return data, lines
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise ScenarioError(f"{extends_at}: extends: must be a file path")
    base_path = path.parent / base_ref
    missing = not base_path.exists() and not base_path.is_symlink()
    if missing and len(Path(base_ref).parts) == 1:
        base_path = _shipped(base_ref) or base_path   # extends: baseline -> the shipped baseline
        missing = not base_path.exists() and not base_path.is_symlink()
    if missing:
        raise ScenarioError(f"{extends_at}: extends: {base_ref}: scenario file not found")
    base, base_lines = load_file(base_path, _chain + (real,))
    return _merge(base, data, base_lines, lines), base_lines


DATA_FILE_KEYS = (("catalog", "source"), ("failures", "trace"))
"""Keys that name input files; a relative path in a scenario file is relative to that file."""


def _resolve_data_files(data: dict, folder: Path) -> None:
    for section, key in DATA_FILE_KEYS:
        sub = data.get(section)
        if isinstance(sub, dict) and isinstance(sub.get(key), str) and sub[key].strip():
            p = Path(sub[key])
            sub[key] = str(p if p.is_absolute() else (folder / p).resolve())


# --------------------------------------------------------------------------- --set overrides

def parse_set(item: str) -> tuple[list[str], Any]:
    """``"a.b.c=value"`` -> (["a", "b", "c"], value), the value read as one YAML scalar (or flow value)."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"--set {item}: expected KEY.PATH=VALUE, e.g. --set run.duration=2d")
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"--set {key}: the value is longer than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        value = _compose(text)[1] if text.strip() else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"--set {item}: malformed value: {problem}") from None
    return key.split("."), value


def _apply(data: dict, parts: list[str], value: Any, origin: str, lines: dict) -> None:
    """Set one override in place, creating mappings on the way; list items are addressed by index."""
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[:depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{origin}: {here}: no list item {part!r} ({units.plural(len(node), 'item')})")
            key: Any = int(part)
        elif isinstance(node, dict):
            # overrides are keyed by video id: a YAML key 5 is an int, the command line gives "5".
            key = int(part) if part.isdigit() and int(part) in node else part
        else:
            raise ScenarioError(f"{origin}: {'.'.join(parts[:depth])}: is a value, not a mapping")
        if last:
            if isinstance(value, dict) and isinstance(node, dict) and isinstance(node.get(key), dict):
                # A mapping merges key by key, as extends does: --set cluster={racks: 2} keeps cluster.nodes.
                node[key] = _merge(node[key], value, lines, _all_paths(value, tuple(parts), origin), tuple(parts))
                lines[tuple(parts)] = origin
                return
            node[key] = value
        else:
            child = node[key] if (isinstance(node, list) or key in node) else None
            if not isinstance(child, (dict, list)):
                child = {}
                node[key] = child
                lines[tuple(parts[:depth + 1])] = origin  # an unknown section is named by this --set
            node = child
    _drop(lines, tuple(parts))
    lines[tuple(parts)] = origin


def _all_paths(value: Any, prefix: tuple, origin: str) -> dict:
    """``path -> origin`` for every key and list item inside a ``--set`` value."""
    out = {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        out[prefix + (str(k),)] = origin
        out.update(_all_paths(v, prefix + (str(k),), origin))
    return out


def apply_overrides(data: dict, sets: Iterable[str] | Mapping[str, Any] | None, lines: dict | None = None) -> dict:
    """Apply ``--set`` strings (or a mapping ``{"a.b": value}`` of already-typed values) to a raw mapping."""
    lines = {} if lines is None else lines
    if not sets:
        return data
    items = sets.items() if isinstance(sets, Mapping) else (parse_set(s) for s in sets)
    for key, value in items:
        parts = key.split(".") if isinstance(key, str) else list(key)
        shown = value if not isinstance(value, str) or value.isprintable() else json.dumps(value)
        origin = f"--set {'.'.join(parts)}={shown}"
        _apply(data, parts, value, origin, lines)
    return data


# --------------------------------------------------------------------------- validation

def _field_type(annotation):
    """The model class inside an annotation (``Model``, ``tuple[Model, ...]``, ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _field_type(arg)
        if found is not None:
            return found
    return None


def _model_at(path: Iterable) -> type[BaseModel] | None:
    """The schema model that holds the keys under ``path`` (list indices skipped)."""
    model: type[BaseModel] | None = Config
    for part in path:
        if isinstance(part, int) or str(part).isdigit():
            continue
        field = model.model_fields.get(str(part)) if model else None
        if field is None:
            return None
        model = _field_type(field.annotation)
    return model


_MSG_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*):")
_KEY_IN_TEXT = re.compile(r"\b([a-z_]+(?:\.[a-z0-9_]+)+)\b")


def _where(key_path: tuple, lines: dict) -> str | None:
    """``file:line`` of the deepest known prefix of a key path."""
    for n in range(len(key_path), 0, -1):
        where = lines.get(tuple(str(p) for p in key_path[:n]))
        if where:
            return where
    return None


def _error_line(exc: ValidationError, lines: dict) -> str:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    line = validation_error_line(exc)
    if err["type"] == "extra_forbidden" and loc:
        model = _model_at(loc[:-1])
        if model is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
            if close:
                line += f" (did you mean {close[0]!r}?)"
            else:
                line += f" (known keys: {', '.join(model.model_fields)})"
    where = _where(loc, lines) if loc else None
    if where is None:
        # Model-level checks (impossible setups) name their keys in the message; point at the first
        # one the file sets (RS(3,2) on 4 nodes points at cluster.nodes if the stripe is a default).
        found = [w for w in (_where(tuple(key.split(".")), lines)
                             for key in _MSG_PATH.findall(line) + _KEY_IN_TEXT.findall(line)) if w]
        # A command-line override of one of the keys is what made the setup impossible: name it, not
        # a line of the file it was applied to.
        where = next((w for w in found if w.startswith("--")), found[0] if found else None)
    return f"{where}: {line}" if where else line


def validate(data: dict, lines: dict | None = None) -> Config:
    """A :class:`Config` from a raw mapping, or a one-line :class:`ScenarioError`."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_error_line(exc, lines or {})) from None


def load_scenario(path: str | Path | None = None, overrides: Iterable[str] | Mapping[str, Any] | None = None,
                  seed: int | None = None) -> Config:
    """Load and validate a scenario file; ``None`` is the embedded default scenario (``Config()``).

    ``path`` may also name a shipped scenario (``"baseline"``) when no such file exists.

    ``overrides`` are ``--set`` strings (``["run.duration=1d"]``) or a mapping of dotted keys to values
    (``{"run.duration": "1d"}``); ``seed`` replaces ``run.seed``.
    """
    return _load(path, overrides, seed)[0]


def _load(path, overrides, seed) -> tuple[Config, dict]:
    """The validated Config and the raw mapping it came from (the values as written, units and all)."""
    data, lines = ({}, {}) if path is None else load_file(find_scenario(path))
    apply_overrides(data, overrides, lines)
    if seed is not None:
        apply_overrides(data, {"run.seed": seed}, lines)
        lines[("run", "seed")] = "--seed"
    return validate(copy.deepcopy(data), lines), data


def resolve_as_written(path: str | Path | None = None, overrides=None, seed: int | None = None) -> str:
    """``vstack-sim validate``: the resolved scenario as YAML, each value the user wrote with a unit
    (``7d``, ``2MiB``) shown beside its base-unit value as a comment."""
    config, written = _load(path, overrides, seed)
    return to_yaml(config, written)


resolve = load_scenario
"""The CLI's name for it: ``resolve(path, sets, seed) -> Config``."""


# --------------------------------------------------------------------------- resolved form

def _plain(value):
    """Model dump -> YAML/JSON-safe builtins (tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def config_dict(config: Config) -> dict:
    """Every setting, defaults filled in, in base units."""
    return _plain(config.model_dump(mode="python"))


def to_yaml(config: Config, written: Mapping | None = None) -> str:
    """The resolved scenario as YAML; loading it back gives an equal Config.

    With ``written`` (the raw mapping the user wrote), a value written as text with a unit that differs
    from its base-unit value gets the text as a comment: ``duration: 604800.0  # 7d``.
    """
    header = ("# Resolved scenario: every default filled in. Units are base units:\n"
              "# bytes, seconds, bytes per second and events per second.\n")
    plain = config_dict(config)
    if written:
        lines: list[str] = []
        _emit(plain, written, 0, lines)
        text = "\n".join(lines) + "\n"
        if yaml.safe_load(text) == plain:   # the annotated form must load back to the same values
            return header + "# A comment after a value is what the scenario wrote.\n" + text
    return header + yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=100)


def _scalar(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _emit(node: dict, written, depth: int, out: list[str]) -> None:
    """Block YAML of a resolved mapping, with the user's unit text as comments (see :func:`to_yaml`)."""
    pad = "  " * depth
    for key, value in node.items():
        was = None
        if isinstance(written, Mapping):
            was = written.get(key, written.get(str(key)))
            if was is None and isinstance(key, str) and key.isdigit():
                was = written.get(int(key))
        name = _scalar(key)
        if isinstance(value, dict) and value:
            out.append(f"{pad}{name}:")
            _emit(value, was, depth + 1, out)
        elif isinstance(value, list) and value and all(isinstance(v, dict) and v for v in value):
            out.append(f"{pad}{name}:")
            for i, item in enumerate(value):
                sub: list[str] = []
                _emit(item, was[i] if isinstance(was, list) and i < len(was) else None, depth + 2, sub)
                sub[0] = f"{pad}  - " + sub[0].lstrip()
                out.extend(sub)
        else:
            line = f"{pad}{name}: {_scalar(value)}"
            if isinstance(was, str) and was != value:
                line += f"  # {was}"
            out.append(line)


def canonical_json(config: Config) -> str:
    """Sorted, compact JSON of the resolved scenario: the input of :func:`config_sha256`."""
    return json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def config_sha256(config: Config) -> str:
    """SHA-256 of the canonical resolved scenario (the manifest's fingerprint)."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in ``scenarios/``."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


# --------------------------------------------------------------------------- shipped scenarios by name

def find_scenario(path: str | Path) -> Path:
    """``path`` itself, or the shipped scenario it names (``baseline``, ``baseline.yaml``) when no such file exists."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    shipped = _shipped(path.name)
    if shipped is None:
        raise ScenarioError(f"{path}: scenario file not found, nor a shipped scenario of that name "
                            f"(see 'vstack-sim scenario --list')")
    return shipped


def _shipped(name: str) -> Path | None:
    shipped = SCENARIO_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    return shipped if shipped.is_file() else None


# --------------------------------------------------------------------------- reference of every key

_UNITS = {
    units.parse_size: "bytes",
    units.parse_duration: "seconds",
    units.parse_rate: "bytes/s",
    units.parse_frequency: "1/s",
}


def _unit(field) -> str:
    def search(metadata, annotation):
        for m in metadata:
            if isinstance(m, BeforeValidator) and m.func in _UNITS:
                return _UNITS[m.func]
        for arg in typing.get_args(annotation):
            found = search(getattr(arg, "__metadata__", ()), arg)
            if found:
                return found
        return ""
    return search(field.metadata, field.annotation)


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        k, v = typing.get_args(annotation)
        return f"mapping {_type_name(k)} -> {_type_name(v)}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return ""
    return json.dumps(_plain(value))


def schema_rows(model: type[BaseModel] = Config, prefix: str = "") -> list[dict]:
    """One row per key: ``key`` (dotted; ``[]`` marks list items), ``type``, ``unit``, ``default``, ``doc``."""
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _field_type(field.annotation)
        listed = typing.get_origin(field.annotation) is tuple
        rows.append({"key": key, "type": "section" if sub and not listed else _type_name(field.annotation),
                     "unit": _unit(field), "default": _default(field),
                     "doc": " ".join((field.description or "").split())})
        if sub is not None:
            rows.extend(schema_rows(sub, f"{key}[]." if listed else f"{key}."))
    return rows


def schema_markdown() -> str:
    """The reference of every scenario key as Markdown (docs/scenario-reference.md)."""
    out = ["# Scenario reference", "",
           "A scenario is a YAML file that says what to simulate: the catalog of videos, the cluster, the",
           "redundancy policy, the viewers, the failures and how long to run. Every key is optional; what",
           "a file leaves out takes the default listed below. A small one:", "",
           "```yaml", "name: my-test", "extends: baseline           # start from another file (relative to this one) or a shipped scenario",
           "run:", "  duration: 3d", "  seed: 7                   # the random seed", "cluster:", "  nodes: 12",
           "failures:", "  node_mttf: 10d", "```", "",
           "- Run it with `vstack-sim run my-test.yaml`; a shipped scenario runs by name",
           "  (`vstack-sim run baseline`; `vstack-sim scenario --list` shows them all).",
           "- `vstack-sim validate my-test.yaml` checks it and prints every key resolved, with the units you",
           "  wrote beside the base units.",
           "- `--set cluster.nodes=12` on the command line overrides one key; `--seed 7` the random seed.",
           "- Sizes, durations and rates take units: `2MiB`, `30d`, `15min`, `200MB/s`, `1Gbps`, `10/min`.",
           "  Plain numbers are base units: bytes, seconds, bytes per second, events per second.",
           "- `extends:` deep-merges this file's keys over the other file's (lists and values replace).",
           "- An unknown key, a bad unit or an impossible setup (a stripe wider than the cluster) is an error",
           "  naming the key and the line; nothing runs.", "",
           "In the tables, `[]` marks the keys of each item of a list. The model behind each key is described",
           "in [model.md](model.md).", ""]
    head = ["| Key | Type | Unit | Default | Meaning |", "|---|---|---|---|---|"]
    rows = schema_rows()
    sections = [r for r in rows if r["type"] == "section"]
    groups = [("Top level", "", [r for r in rows if "." not in r["key"] and r["type"] != "section"])]
    groups += [(f"`{s['key']}`", s["doc"], [r for r in rows if r["key"].startswith(s["key"] + ".")])
               for s in sections]
    for title, doc, members in groups:
        out += [f"## {title}", ""] + ([doc, ""] if doc else []) + head
        for row in members:
            cells = [f"`{row['key']}`", row["type"], row["unit"],
                     f"`{row['default']}`" if row["default"] not in ("", "required") else row["default"], row["doc"]]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    out += ["---", "",
            "This page is generated from the schema in `vstack_sim/config.py` by `vstack-sim scenario --schema`;",
            "a test checks that it is up to date.", ""]
    return "\n".join(out)
