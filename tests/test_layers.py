"""The layers ARCHITECTURE.md draws, checked: each "never" there is one case here.

Imports are checked transitively, in a fresh interpreter per rule: what `sys.modules` holds after importing every
module of a layer, not only the import lines each file writes. A lazy import inside a function is not seen here;
the rules are about what loading a layer costs and drags in.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARCHITECTURE = PROJECT_DIR / "ARCHITECTURE.md"


def _modules(package: str) -> list[str]:
    """The package and every module below it, found on disk (so a module added later is checked too)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, package
    found = [package]
    for module in pkgutil.walk_packages(spec.submodule_search_locations, prefix=package + "."):
        found.append(module.name)
    return sorted(found)


# (layer, its modules, what loading them must never load): one line each of ARCHITECTURE.md's "Never" list.
RULES = {
    "pubmed never imports the store, analysis or outputs": (
        lambda: _modules("tracker.pubmed"), ("tracker.store", "tracker.analysis", "tracker.outputs")),
    "analysis never imports the store, PubMed, the jobs or Streamlit": (
        lambda: _modules("tracker.analysis"), ("tracker.store", "tracker.pubmed", "tracker.jobs", "streamlit")),
    "outputs never import the store or the jobs": (
        lambda: _modules("tracker.outputs"), ("tracker.store", "tracker.jobs")),
    "the dashboard never imports the jobs, PubMed or the CLI": (
        lambda: [name for name in _modules("dashboard") if name != "dashboard.app"],
        ("tracker.jobs", "tracker.pubmed", "tracker.cli")),
    "the store never imports the jobs": (
        lambda: _modules("tracker.store"), ("tracker.jobs",)),
}

_PROBE = """
import importlib, json, sys
loaded = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    loaded[name] = sorted(set(sys.modules) - before)
print(json.dumps(loaded))
"""


def _loaded_by(modules: list[str]) -> dict[str, list[str]]:
    """What importing each module loaded that was not loaded before it, in one fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", _PROBE, *modules], cwd=PROJECT_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("rule", list(RULES))
def test_a_layer_never_loads_what_architecture_md_forbids(rule: str) -> None:
    modules, forbidden = RULES[rule]
    loaded = _loaded_by(modules())
    breaches = {name: [m for m in extra if any(_is_under(m, prefix) for prefix in forbidden)]
                for name, extra in loaded.items()}
    assert not {name: found for name, found in breaches.items() if found}, rule


def test_every_rule_is_written_in_architecture_md() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8").lower()
    for rule in RULES:
        assert rule.lower() in text, rule


# A call that runs SQL, or an SQL statement's opening words, in a Python file.
_SQL = re.compile(r"\.execute(?:many|script)?\(|read_sql|\bSELECT\b[^\n]*\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|"
                  r"\bUPDATE \w+ SET\b|\bPRAGMA\b|\bCREATE (?:TABLE|INDEX)\b")


def test_no_sql_outside_the_store() -> None:
    files = [*PROJECT_DIR.joinpath("tracker").rglob("*.py"), *PROJECT_DIR.joinpath("dashboard").rglob("*.py")]
    store_dir = PROJECT_DIR / "tracker" / "store"
    found = [f"{path.relative_to(PROJECT_DIR)}:{number}: {line.strip()}"
             for path in files if store_dir not in path.parents
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if _SQL.search(line)]
    assert not found, "SQL outside tracker/store/ (move it into a store function):\n" + "\n".join(found)


def test_the_development_notes_layout_names_every_module() -> None:
    notes = (PROJECT_DIR / "docs" / "development.md").read_text(encoding="utf-8")
    layout = notes[notes.index("- Layout ("):notes.index("- Dependencies are declared")]
    modules = [path for folder in ("tracker", "dashboard") for path in PROJECT_DIR.joinpath(folder).rglob("*.py")
               if path.stem not in ("__init__", "__main__")]
    missing = sorted(str(path.relative_to(PROJECT_DIR)) for path in modules
                     if f"`{path.stem}`" not in layout and f"`{path.name}`" not in layout
                     and f"`{path.relative_to(PROJECT_DIR)}`" not in layout)
    assert not missing, "docs/development.md's layout does not name these modules: " + ", ".join(missing)


def _project_imports() -> dict[str, set[str]]:
    """Each project module (tracker/, dashboard/) and the project modules it names in an import statement, wherever
    the statement stands (a lazy import or one under `if TYPE_CHECKING:` is an edge too)."""
    files = {}
    for folder in ("tracker", "dashboard"):
        for path in PROJECT_DIR.joinpath(folder).rglob("*.py"):
            parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    imports: dict[str, set[str]] = {}
    for module, path in files.items():
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from dashboard import loaders` names the module dashboard.loaders, not the package (whose
                # loading comes first whatever is imported from below it).
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(files)
                named.update(submodules or {node.module})
        imports[module] = {name for name in named if name in files and name != module}
    return imports


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                lowest[node] = min(lowest[node], lowest[target])
            elif target in on_stack:
                lowest[node] = min(lowest[node], index[target])
        if lowest[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_project_module_imports_itself_through_others() -> None:
    """A cycle makes the import order matter (a half-loaded module) and the layers blur: move what both sides
    share to a module of its own."""
    graph = _project_imports()
    assert graph["tracker.review_cli"] and graph["dashboard.reviewing"]
    cycles = _cycles(graph)
    assert not cycles, cycles
