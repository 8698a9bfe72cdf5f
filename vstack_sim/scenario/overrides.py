"""``--set a.b.c=value`` overrides (values parsed as YAML scalars, never evaluated) and the one-line form
of a validation error, pointing at the file line or the ``--set`` that caused it.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vstack_sim.scenario import units
from vstack_sim.scenario.reading import MAX_FILE_BYTES, ScenarioError, compose_yaml, drop_lines, merge
from vstack_sim.scenario.schema import Config
from vstack_sim.scenario.sections import validation_error_line

# --------------------------------------------------------------------------- --set overrides

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

def parse_set(item: str) -> tuple[list[str], Any]:
    """``"a.b.c=value"`` -> (["a", "b", "c"], value), the value read as one YAML scalar (or flow value)."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError(f"--set {item}: expected KEY.PATH=VALUE, e.g. --set run.duration=2d")
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"--set {key}: the value is longer than {MAX_FILE_BYTES // 2**20} MiB")
    control = _CONTROL.search(text)
    if control and key.rsplit(".", 1)[-1] == "name":
        # YAML would fold 'evil\n' to 'evil': a name (a folder name) given with a control character is refused
        # as written, not silently changed.
        raise ScenarioError(f"--set {key}: a name may not hold a control character, got {control.group()!r}")
    try:
        value = compose_yaml(text)[1] if text.strip() else None
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
            # redundancy.overrides is keyed by video: a YAML key 5 is an int, the command line gives "5"; the
            # same key when the file has 5, else text, which names the video keyed "5" or else id 5 (video_refs).
            key = int(part) if part.isdigit() and int(part) in node else part
        else:
            raise ScenarioError(f"{origin}: {'.'.join(parts[:depth])}: is a value, not a mapping")
        if last:
            if isinstance(value, dict) and isinstance(node, dict) and isinstance(node.get(key), dict):
                # A mapping merges key by key, as extends does: --set cluster={racks: 2} keeps cluster.nodes.
                node[key] = merge(node[key], value, lines, _all_paths(value, tuple(parts), origin), tuple(parts))
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
    drop_lines(lines, tuple(parts))
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

def field_type(annotation):
    """The model class inside an annotation (``Model``, ``tuple[Model, ...]``, ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = field_type(arg)
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
        model = field_type(field.annotation)
    return model


_MSG_PATH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*):")
_KEY_IN_TEXT = re.compile(r"\b([a-z_]+(?:\.[a-z0-9_]+)+)\b")


def line_of(key_path: tuple, lines: dict) -> str | None:
    """``file:line`` of the deepest known prefix of a key path."""
    for n in range(len(key_path), 0, -1):
        where = lines.get(tuple(str(p) for p in key_path[:n]))
        if where:
            return where
    return None


def error_line(exc: ValidationError, lines: dict) -> str:
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
    named = _MSG_PATH.findall(line) + _KEY_IN_TEXT.findall(line)
    # Model-level checks (impossible setups) name their keys in the message; point at the first
    # one the file sets (RS(3,2) on 4 nodes points at cluster.nodes if the stripe is a default).
    found = [w for w in (line_of(tuple(key.split(".")), lines) for key in named) if w]
    # A command-line override of one of the keys is what made the setup impossible: name it, not
    # a line of the file it was applied to.
    by_set = next((w for w in found if w.startswith("--")), None)
    # A section's own check (loc is the section) that names keys inside it: the --set of one of them.
    inside = any(len(k.split(".")) > len(loc) and tuple(k.split("."))[:len(loc)] == tuple(map(str, loc))
                 for k in named)
    where = by_set if loc and inside and by_set else (line_of(loc, lines) if loc else None)
    if where is None:
        where = by_set or (found[0] if found else None)
    return f"{where}: {line}" if where else line
