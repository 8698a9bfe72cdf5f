"""The house rules, read from the code: imports point down the layers, no import circles, no module over
400 lines, and no private name imported across modules (docs/architecture.md).

Every import statement of the package is read with ``ast``: module level, inside functions and under
``TYPE_CHECKING`` alike, since an import inside a function is still a dependency (each of the circles this
test was written against ran through one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vstack_sim"

LAYERS = ("cli", "service", "validation", "experiments", "results", "model", "scenario", "analysis", "system")
"""Top to bottom: a module may import its own layer and the layers below it, never one above. ``validation``
(the model checked against published numbers) runs simulations and may use the experiments below it; only
``cli`` and the facade's users import it."""

UNLAYERED = {"vstack_sim", "vstack_sim._build_info", "vstack_sim.scenarios"}
"""The lazy public API facade (it names everything, loading nothing until asked), the version file that
setuptools-scm writes at build time (it imports nothing), and the shipped YAML files' package."""

MAX_LINES = 400
LONG_MODULES: dict[str, str] = {}
"""Modules allowed over MAX_LINES, each with the reason (at most one)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import statement in the file, relative ones resolved."""
    source = path.read_text(encoding="utf-8") if source is None else source
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = [alias.name for alias in node.names]
            out.append((node.lineno, base, names))
            # `from vstack_sim.x import y` may import the module vstack_sim.x.y
            out += [(node.lineno, f"{base}.{n}", []) for n in names
                    if (PACKAGE.parent / f"{base}.{n}".replace(".", "/")).exists()
                    or (PACKAGE.parent / (f"{base}.{n}".replace(".", "/") + ".py")).exists()]
    return out


def layer_of(module: str) -> int | None:
    if module in UNLAYERED or not module.startswith("vstack_sim."):
        return None
    return LAYERS.index(module.split(".")[1]) if module.split(".")[1] in LAYERS else None


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def upward_imports(path: Path, source: str | None = None) -> list[str]:
    here = layer_of(module_name(path))
    if here is None:
        return []
    bad = []
    for line, target, _ in imports_of(path, source):
        there = layer_of(target)
        if there is not None and there < here:
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {LAYERS[here]} imports {target} ({LAYERS[there]})")
    return bad


def test_every_module_belongs_to_a_layer():
    stray = [m for m in modules() if m not in UNLAYERED and layer_of(m) is None]
    assert stray == [], f"modules outside the layers {LAYERS}: {stray}"


def test_no_import_points_up():
    bad = [line for path in modules().values() for line in upward_imports(path)]
    assert bad == [], "\n".join(bad)


def test_an_upward_import_is_caught():
    """The check above can fail: a model module that imports the results layer is reported."""
    world = PACKAGE / "model" / "world.py"
    source = world.read_text(encoding="utf-8") + "\n\ndef _peek():\n    from vstack_sim.results import report\n"
    found = upward_imports(world, source)
    assert found and all("model imports vstack_sim.results" in line for line in found), found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for mod, path in known.items():
        targets = set()
        for _, target, _names in imports_of(path):
            # A module's own packages run their __init__ first whatever it imports, so `from
            # vstack_sim.system.codec import gf` inside the codec depends on gf, not on the package.
            if target in known and target != mod and target not in UNLAYERED and not mod.startswith(target + "."):
                targets.add(target)
        graph[mod] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_are_no_import_circles():
    assert circles(import_graph()) == []


def test_a_circle_is_caught():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_no_module_is_over_400_lines():
    assert len(LONG_MODULES) <= 1
    long = {m: n for m, p in modules().items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES and m not in LONG_MODULES}
    assert long == {}, f"split by concept: {long}"


@pytest.mark.parametrize("mod", sorted(modules()))
def test_no_private_name_is_imported_across_modules(mod):
    path = modules()[mod]
    private = [f"{target}.{name}" for _, target, names in imports_of(path) if target.startswith("vstack_sim")
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert private == [], f"{mod} imports private names; make them public where they belong: {private}"
