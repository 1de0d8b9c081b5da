"""The rooms of pages/common stay a layered design: no import cycle between its modules, no page
reaching into another module's private names, no colour typed outside the palette (parsed with
``ast``; nothing is imported)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "pages"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PAGES.rglob("*.py"))}


def _resolve(mod: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module named by ``from ... import`` in ``mod`` (a package when ``__init__``)."""
    if not node.level:
        return node.module or ""
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(sources: dict[str, Path]) -> dict[str, list[tuple[str, list[str]]]]:
    """Per module: (imported module, names imported from it) for every import anywhere in it
    (function-level imports included). ``from pkg import mod`` counts as importing ``pkg.mod``."""
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for mod, path in sources.items():
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(a.name, []) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, path, node)
                names = [a.name for a in node.names]
                subs = [n for n in names if f"{target}.{n}" in sources]
                found += [(f"{target}.{n}", []) for n in subs]
                rest = [n for n in names if n not in subs]
                if rest or not subs:
                    found.append((target, rest))
        out[mod] = found
    return out


def _graph(sources, edges) -> dict[str, set[str]]:
    """Edges between modules of pages.common (a package's ``__init__`` is a module too)."""
    common = {m for m in sources if m.startswith("pages.common")}
    return {m: {t for t, _ in edges[m] if t in common and t != m} for m in common}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                cyc = visit(t)
                if cyc:
                    return cyc
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cyc = visit(m)
            if cyc:
                return cyc
    return None


def test_no_import_cycle_between_common_modules():
    sources = _sources()
    cycle = find_cycle(_graph(sources, imports(sources)))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_page_imports_a_private_name_from_another_module():
    sources = _sources()
    bad = [f"{mod} imports {name} from {target}"
           for mod, found in imports(sources).items() for target, names in found for name in names
           if name.startswith("_") and not name.startswith("__") and target != mod]
    assert not bad, bad


def test_cache_room_draws_no_widget_and_reads_no_url_or_session():
    """Cached engine calls are pure: no widgets, no query parameters, no session state (a progress
    element inside a long computation is the one allowed streamlit call besides the decorators)."""
    allowed = {"cache_data", "cache_resource", "progress"}
    for mod, path in _sources().items():
        if not mod.startswith("pages.common.cache"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "st":
                assert node.attr in allowed, f"{mod} uses st.{node.attr}"
            if isinstance(node, ast.Global):
                raise AssertionError(f"{mod} assigns module-global state ({', '.join(node.names)})")


def test_the_cache_room_imports_no_room_that_draws_controls():
    sources = _sources()
    for mod, found in imports(sources).items():
        if mod.startswith("pages.common.cache"):
            for target, _ in found:
                assert not re.match(r"pages\.common\.(controls|data|export|url|solve|errors)", target), (mod, target)


_COLOUR = re.compile(r"""["'](#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3}|rgba?\(|(black|white)["'])""")


@pytest.mark.parametrize("path", sorted(p for p in PAGES.rglob("*.py") if p.name != "palette.py"), ids=str)
def test_colours_come_from_the_palette(path):
    hits = [f"{path.name}:{i}: {ln.strip()}" for i, ln in enumerate(path.read_text().splitlines(), 1)
            if _COLOUR.search(ln)]
    assert not hits, hits
