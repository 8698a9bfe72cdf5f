"""Reading scenario YAML: ``yaml.safe_load`` semantics within size, depth and alias limits, the line of
every key (for error messages), and ``extends:`` chains merged key by key.

Every problem raises :class:`ScenarioError`, a one-line ``ValueError`` naming the file, line and key.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

import yaml

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


def compose_yaml(text: str):
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


def read_yaml(path: Path, shown: str) -> tuple[dict, dict]:
    """One file's mapping and the line of each of its keys. ``shown`` is the path used in messages."""
    text = _read_text(path, shown)
    # SafeLoader composes and constructs exactly as yaml.safe_load does; composing first keeps the node
    # marks, so errors can point at a line.
    try:
        node, data = compose_yaml(text)
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


def drop_lines(lines: dict, path: tuple) -> None:
    for p in [p for p in lines if p[:len(path)] == path]:
        del lines[p]


def merge(base: dict, over: dict, lines: dict, over_lines: dict, prefix: tuple = ()) -> dict:
    """Deep-merge ``over`` into a copy of ``base``; ``lines`` (the base's) is updated to match the result."""
    merged = dict(base)
    for key, value in over.items():
        path = prefix + (str(key),)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value, lines, over_lines, path)
            if path in over_lines:
                lines[path] = over_lines[path]
        else:
            # A replaced subtree's old lines would point at the base file for keys that no longer exist.
            drop_lines(lines, path)
            lines.update({p: w for p, w in over_lines.items() if p[:len(path)] == path})
            merged[key] = value
    return merged


def shown_path(path: Path) -> str:
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
    shown = shown_path(path)
    if len(_chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{shown}: extends: a chain of more than {MAX_EXTENDS} files")
    if real in _chain:
        cycle = " -> ".join(shown_path(p) for p in _chain + (real,))
        raise ScenarioError(f"{shown}: extends cycle: {cycle}")
    data, lines = read_yaml(path, shown)
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
        base_path = shipped_path(base_ref) or base_path   # extends: baseline -> the shipped baseline
        missing = not base_path.exists() and not base_path.is_symlink()
    if missing:
        raise ScenarioError(f"{extends_at}: extends: {base_ref}: scenario file not found")
    base, base_lines = load_file(base_path, _chain + (real,))
    return merge(base, data, base_lines, lines), base_lines


DATA_FILE_KEYS = (("catalog", "source"), ("failures", "trace"))
"""Keys that name input files; a relative path in a scenario file is relative to that file."""


def _resolve_data_files(data: dict, folder: Path) -> None:
    for section, key in DATA_FILE_KEYS:
        sub = data.get(section)
        if isinstance(sub, dict) and isinstance(sub.get(key), str) and sub[key].strip():
            p = Path(sub[key])
            sub[key] = str(p if p.is_absolute() else (folder / p).resolve())


# --------------------------------------------------------------------------- shipped scenarios by name

def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in ``scenarios/``."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def find_scenario(path: str | Path) -> Path:
    """``path`` itself, or the shipped scenario it names (``baseline``, ``baseline.yaml``) when no such file exists."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    shipped = shipped_path(path.name)
    if shipped is None:
        raise ScenarioError(f"{path}: scenario file not found, nor a shipped scenario of that name "
                            f"(see 'vstack-sim scenario --list')")
    return shipped


def shipped_path(name: str) -> Path | None:
    shipped = SCENARIO_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    return shipped if shipped.is_file() else None
