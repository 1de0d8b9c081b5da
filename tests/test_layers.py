"""The engine's layers import downwards only (docs/architecture.md).

Parses every module of ``cvx_core`` (imports inside functions included) and fails on an import
cycle, on an import from a higher layer, on a private name imported from another module, and
on streamlit anywhere in the engine.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "cvx_core"

#: Lower layers first; a module may import from its own layer or below, never above.
LAYERS = [
    {"validation", "tolerances", "caching", "sparse", "threads", "kernels", "kernels.blocks", "kernels.cones", "kernels.rows"},
    {"model", "datasets", "geometry", "signals", "convnet"},
    {"patterns"},
    {"certificates", "certificates.hashing", "certificates.cells", "certificates.polar",
     "certificates.sphere",
     "certificates.arrangement", "certificates.evaluate", "certificates.dual", "certificates.search"},
    {"recovery"},
    {"solvers", "solvers.result", "solvers.ipm", "solvers.small_program", "solvers.cone_rows",
     "solvers.pricing", "solvers.working_set", "solvers.interior", "solvers.reference",
     "solvers.blocks", "solvers.high_dim", "solvers.clarabel_blocks"},
    {"convex", "certification"},
    {"path", "gradients", "sgd", "cnn", "cnn_training"},
    {"stationary", "estimators"},
    {"cli", "__main__", ""},
]
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _imports(name: str, modules: dict[str, Path]):
    """(target module, imported names) for every cvx_core import in module ``name``."""
    tree = ast.parse(modules[name].read_text())
    pkg = name.split(".") if _is_package(name, modules) else name.split(".")[:-1]
    pkg = [p for p in pkg if p]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("cvx_core"):
                target = node.module[len("cvx_core"):].lstrip(".")
            else:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}".lstrip(".")
                if sub in modules:  # "from . import kernels": the submodule itself
                    yield sub, []
                else:
                    yield target, [alias.name]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cvx_core"):
                    yield alias.name[len("cvx_core"):].lstrip("."), []


def _graph():
    modules = _modules()
    graph = {m: set() for m in modules}
    private = []
    for m in modules:
        for target, names in _imports(m, modules):
            assert target in modules, f"{m} imports unknown module cvx_core.{target}"
            if target != m:
                graph[m].add(target)
                private += [(m, target, n) for n in names if n.startswith("_") and n != "__version__"]
    return modules, graph, private


def test_every_module_has_a_layer():
    modules = _modules()
    assert sorted(set(modules) - set(LAYER)) == []


def test_no_import_cycles():
    _, graph, _ = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            # a package's __init__ importing its own submodules is how packages work
            if m and t.startswith(m + "."):
                continue
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert cycles == []


def test_imports_go_downwards_only():
    _, graph, _ = _graph()
    upward = [(m, t) for m, targets in graph.items() for t in targets
              if LAYER[t] > LAYER[m] and not (m == "" or t.startswith(m + "."))]
    assert upward == []


def test_no_private_names_cross_modules():
    _, _, private = _graph()
    assert private == []


@pytest.mark.parametrize("module", sorted(_modules()))
def test_the_engine_never_imports_streamlit(module):
    tree = ast.parse(_modules()[module].read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not any(x.split(".")[0] == "streamlit" for x in names)


def test_the_checks_see_a_cycle_and_a_private_import(tmp_path, monkeypatch):
    """The graph code itself: a planted cycle and a planted private import are found."""
    pkg = tmp_path / "cvx_core"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import thing\n")
    (pkg / "b.py").write_text("def f():\n    from .a import _hidden\n")
    (pkg / "sub" / "__init__.py").write_text("from ..a import thing\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", pkg)
    modules, graph, private = _graph()
    assert graph["a"] == {"b"} and graph["b"] == {"a"} and graph["sub"] == {"a"}
    assert private == [("b", "a", "_hidden")]
