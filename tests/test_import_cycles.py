"""No import cycles within the tool's packages (convert, runtime, deploy, bench).

The graph is read from the source with ast: one edge per module an import statement names,
relative or absolute (``from . import x`` names the module x; ``from .x import y`` names x, or
x.y when that is a module). Imports inside functions count: they only delay the cycle to the
first call. Imports under ``if TYPE_CHECKING:`` do not: they never run. A package's
``__init__`` is not an edge of its submodules' imports: Python runs it first, but the code
depends on the module named.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("convert", "runtime", "deploy", "bench")
DISTRIBUTION = "lambda_tabular"


def module_files() -> dict[str, Path]:
    """Dotted module name (without the lambda_tabular prefix) -> its file."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _under_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        if _under_type_checking(child):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from _imports(child)


def _named(statement: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The dotted names an import statement loads, written from the root of the tool."""
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    if statement.level:
        parts = package.split(".")[: len(package.split(".")) - statement.level + 1]
        base = ".".join(parts + ([statement.module] if statement.module else []))
    else:
        base = statement.module or ""
    return [base] + [f"{base}.{alias.name}" for alias in statement.names]


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for statement in _imports(ast.parse(path.read_text(), str(path))):
            named = [n.removeprefix(f"{DISTRIBUTION}.") for n in _named(statement, package)]
            if isinstance(statement, ast.ImportFrom):
                submodules = [n for n in named[1:] if n in modules]
                # ``from package import a, b``: the submodules named; the package itself only
                # when some name is not a submodule (a function or class defined there).
                named = submodules + (named[:1] if len(submodules) < len(named) - 1 else [])
            for target in named:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            target = next(edges, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
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
                    found.append(tuple(sorted(component)))
    return sorted(found)


def test_the_graph_sees_relative_lazy_and_absolute_imports():
    graph = import_graph()
    assert "runtime.schema" in graph["convert.export"]  # from ..runtime.schema import NULL_STRING
    assert "runtime.s3_source" in graph["runtime.model_source"]  # inside load_model()
    assert {"runtime.protocols.instances", "runtime.protocols.open_inference"} <= graph["runtime.protocols"]


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]


def test_no_import_cycles():
    assert cycles(import_graph()) == []
