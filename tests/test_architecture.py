"""The import contract: layering written once, no cycle, no import from a lower floor to a
higher one, solver and plotting libraries only in named modules, no private names
across modules. Parses every import of the package (function-local and TYPE_CHECKING
ones included); nothing is imported or run."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rural_logistics"

#: The floors of the house, lowest first. A unit (a top-level module or subpackage) may
#: import its own modules and units on lower floors only; units on one floor do not
#: import each other. A module of a subpackage named here is a unit of its own
#: (``osm.importer``: the OpenStreetMap reader is read by ``io``, the importer writes
#: regions with it). Data flows up: config → io → network → demand → placement →
#: routing → lrp → region → delivery → check pass / assembly → maps / report → outputs,
#: pipeline → batch (many runs of the pipeline on Dask), sweep (one region, many numbers of
#: stations) → benchmarks → cli.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "text", "solvers", "summary", "carriers.game"),
    ("__init__", "config", "network", "plan", "metrics", "frontier", "osm"),
    ("io", "demand", "generate"),
    ("routing", "placement", "network_setup", "osm.importer"),
    ("lrp", "periodic"),
    ("region",),
    ("last_metres", "desire_lines", "carriers.shares"),
    ("delivery",),
    ("produce",),
    ("validation", "assemble"),
    ("maps",),
    ("report",),
    ("outputs", "pipeline"),
    ("batch", "sweep", "carriers"),
    ("benchmarks",),
    ("cli",),
    ("__main__",),
)

#: Solver and plotting libraries, and the only modules that may import them.
LIBRARY_HOMES: dict[str, tuple[str, ...]] = {
    "ortools": (
        "solvers/mip.py", "routing/ortools_engine.py", "placement/cfl_lagrange.py",
        "lrp/engine.py",
    ),
    "pyvrp": ("routing/pyvrp_engine.py", "routing/pyvrp_periodic.py",
              "routing/pyvrp_patterns.py", "lrp/engine.py"),
    "scipy.optimize": ("solvers/mip.py", "placement/cfl_lagrange.py", "lrp/estimate.py"),
    "matplotlib": ("maps/", "report/panels.py"),
    "pulp": ("benchmarks/spopt_compare.py",),
    "spopt": ("benchmarks/spopt_compare.py",),
}

#: Private names that cross modules anyway, with the reason (none at present).
PRIVATE_ALLOWED: tuple[str, ...] = ()


def _modules() -> dict[str, Path]:
    """Dotted module name → file."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import in a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found.append((node.module or "", [a.name for a in node.names]))
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 and ".".join(parts[1:3]) in _floor():
        return ".".join(parts[1:3])
    return parts[1] if len(parts) > 1 else "__init__"


def _floor() -> dict[str, int]:
    return {unit: k for k, floor in enumerate(LAYERS) for unit in floor}


def _internal_edges() -> dict[str, set[str]]:
    """Module → package modules it imports (``from pkg import name`` of a submodule
    counts as importing that submodule)."""
    modules = _modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target, names in _imports(path):
            if not target.startswith("rural_logistics"):
                continue
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for t in subs or [target]:
                if t != name:
                    edges[name].add(t)
    return edges


def test_every_unit_has_a_floor() -> None:
    units = {_unit(m) for m in _modules()}
    assert units == set(_floor()), "add new units to LAYERS (and only real ones)"


def test_no_import_runs_up_or_across_a_floor() -> None:
    floor = _floor()
    wrong = []
    for source, targets in _internal_edges().items():
        for target in targets:
            a, b = _unit(source), _unit(target)
            if a != b and floor[b] >= floor[a]:
                wrong.append(f"{source} -> {target} (floor {floor[a]} -> {floor[b]})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    edges = _internal_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(_modules()):
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_solver_and_plotting_libraries_only_in_their_modules() -> None:
    wrong = []
    for path in _modules().values():
        rel = path.relative_to(PACKAGE).as_posix()
        for target, _ in _imports(path):
            for library, homes in LIBRARY_HOMES.items():
                used = target == library or target.startswith(f"{library}.")
                at_home = any(rel == h or (h.endswith("/") and rel.startswith(h))
                              for h in homes)
                if used and not at_home:
                    wrong.append(f"{rel} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_private_names_across_modules() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        rel = path.relative_to(PACKAGE).as_posix()
        if any(rel.startswith(p) for p in PRIVATE_ALLOWED):
            continue
        for target, names in _imports(path):
            if not target.startswith("rural_logistics"):
                continue
            if any(part.startswith("_") for part in target.split(".")):
                wrong.append(f"{rel} imports the private module {target}")
            wrong += [
                f"{rel} imports {target}.{n}" for n in names
                if n.startswith("_") and not n.startswith("__") and target != name
            ]
    assert not wrong, "\n".join(wrong)


def test_the_contract_sees_the_package() -> None:
    # A guard that parsed nothing would pass: the graph must hold known arrows.
    edges = _internal_edges()
    assert "rural_logistics.region" in edges["rural_logistics.pipeline"]
    assert "rural_logistics.delivery" in edges["rural_logistics.validation"]
    assert len(_modules()) > 60
