"""The house's shape (docs/architecture.md): no circle of imports, and each context imports only
what it may. Read from the source with `ast`: every import counts, those inside functions too."""
import ast
import functools
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("calls", "registry")
CONTEXTS = ("reading", "site", "api", "alerts", "importing", "curation")


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: pathlib.Path):
    """(imported module, line, whether inside a function) for each import of a project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {
        id(node) for function in ast.walk(tree) if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)
    }
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno, id(node) in in_function


@functools.cache
def import_graph():
    """Each module and the project modules it imports (read when a test needs it, not while tests
    are collected)."""
    return {name: {target for target, _line, _local in _imports(name, path)} for name, path in MODULES.items()}


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def context(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "registry":
        return "project"
    return parts[1] if len(parts) > 1 and parts[1] in CONTEXTS else "domain"


def test_no_module_imports_itself_through_others():
    assert _cycles(import_graph()) == []


def test_no_project_module_is_imported_inside_a_function():
    """(A function-local import is how a circle is hidden; none is kept.)"""
    local = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items() for target, line, inside in _imports(name, path) if inside
    ]
    assert local == []


# What each context may import, besides itself and the project (docs/architecture.md).
ALLOWED = {
    "domain": {"reading", "importing"},  # the write path keeps the read model; baselines in the data format
    "reading": {"domain"},
    "site": {"domain", "reading", "alerts"},  # the call page's reminder form is an alert's
    "api": {"domain", "reading"},
    "alerts": {"domain", "reading"},
    "importing": {"domain", "reading"},
    "curation": {"domain", "reading", "importing", "alerts"},
    "project": {"domain", "reading", "site", "api", "alerts", "importing", "curation"},
}


def test_each_context_imports_only_what_it_may():
    crossing = sorted(
        f"{name} ({context(name)}) imports {target} ({context(target)})"
        for name, targets in import_graph().items() for target in targets
        if context(target) not in ALLOWED[context(name)] | {context(name), "project"}
    )
    assert crossing == []


def test_the_read_side_borrows_nothing_from_the_api_the_site_nor_drf():
    """The read side is what the site, the API, alerts and feeds read: it imports none of them,
    nor the API's framework."""
    borrowed = []
    for name, path in MODULES.items():
        if context(name) != "reading":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                borrowed += [f"{name}: {module}" for module in modules
                             if module.split(".")[0] in ("rest_framework", "drf_spectacular")]
    borrowed += [f"{name}: {target}" for name, targets in import_graph().items() if context(name) == "reading"
                 for target in targets if context(target) in ("site", "api")]
    assert borrowed == []
