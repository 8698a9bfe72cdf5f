"""The resolved scenario as written out: plain builtins, YAML with the user's units as comments, canonical
JSON and its SHA-256 (the manifest's fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

import yaml

from vstack_sim.scenario.schema import Config

# --------------------------------------------------------------------------- resolved form

def plain(value):
    """Model dump -> YAML/JSON-safe builtins (tuples become lists)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def config_dict(config: Config) -> dict:
    """Every setting, defaults filled in, in base units."""
    return plain(config.model_dump(mode="python"))


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
