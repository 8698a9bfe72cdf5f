"""The generated reference of every scenario key: unit, default and meaning (``vstack-sim scenario
--schema``, ``docs/scenario-reference.md``).
"""

from __future__ import annotations

import json
import types
import typing

from pydantic import BaseModel, BeforeValidator

from vstack_sim.scenario import units
from vstack_sim.scenario.emit import plain
from vstack_sim.scenario.overrides import field_type
from vstack_sim.scenario.schema import Config

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
    return json.dumps(plain(value))


def schema_rows(model: type[BaseModel] = Config, prefix: str = "") -> list[dict]:
    """One row per key: ``key`` (dotted; ``[]`` marks list items), ``type``, ``unit``, ``default``, ``doc``."""
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = field_type(field.annotation)
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
           "```yaml", "name: my-test",
           "extends: baseline           # start from another file (relative to this one) or a shipped scenario",
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
