"""The import graph of the project's modules (services/** and shared/isf/**): no cycle, counting imports inside
functions; the domain imports nothing of the services; no service imports the command-line package, which the
image leaves out."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"services": ROOT / "services", "isf": ROOT / "shared" / "isf"}


def modules(packages: dict[str, Path]) -> dict[str, Path]:
    """Dotted name -> file, for every module of the given top-level packages (a package is its __init__)."""
    out = {}
    for top, folder in packages.items():
        for path in folder.rglob("*.py"):
            parts = [top, *path.relative_to(folder).with_suffix("").parts]
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported(name: str, path: Path) -> set[str]:
    """Every module name an import statement anywhere in the file names (at the top, in a function, in a branch),
    relative imports resolved; `from a import b` names a.b (the module b, or else the name b in a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            out.update(f"{source}.{alias.name}" for alias in node.names)
    return out


def graph(packages: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project's modules it imports (each import counted as the deepest module it names)."""
    known = modules(packages)

    def deepest(dotted: str) -> str | None:
        parts = dotted.split(".")
        return next((m for i in range(len(parts), 0, -1) if (m := ".".join(parts[:i])) in known), None)

    return {name: {m for i in imported(name, path) if (m := deepest(i)) and m != name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted: every one is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_among_the_projects_modules():
    assert cycles(graph(PACKAGES)) == []


def test_the_domain_imports_nothing_of_the_services():
    offenders = {
        name: sorted(i for i in imported(name, path) if i.split(".")[0] in ("services", "shared"))
        for name, path in modules({"isf": PACKAGES["isf"]}).items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_service_imports_the_command_line_package():
    edges = graph(PACKAGES)
    offenders = {
        name: sorted(m for m in imports if m == "services.cli" or m.startswith("services.cli."))
        for name, imports in edges.items()
        if name.startswith("services.") and not (name == "services.cli" or name.startswith("services.cli."))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_checker_finds_a_cycle_through_a_function_level_relative_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .leaf import VALUE\n")
    (pkg / "sub" / "leaf.py").write_text("def late():\n    from .. import top\n    return top\n\nVALUE = 1\n")
    (pkg / "top.py").write_text("import os\n\nfrom pkg.sub import VALUE\n")
    (pkg / "alone.py").write_text("from .top import os\n")
    edges = graph({"pkg": pkg})
    assert edges["pkg.sub"] == {"pkg.sub.leaf"} and edges["pkg.alone"] == {"pkg.top"}
    assert cycles(edges) == [["pkg.sub", "pkg.sub.leaf", "pkg.top"]]
    (pkg / "sub" / "leaf.py").write_text("VALUE = 1\n")
    assert cycles(graph({"pkg": pkg})) == []


# the composition root builds these for the services; the local infrastructure pings the Redis it started
BUILDERS = {"services.common.bootstrap", "services.common.infra"}
BUILT = {"App", "RedisStore", "from_url"}  # faust.App, the store, a Redis client


def test_only_the_bootstrap_builds_the_app_the_store_and_the_redis_clients():
    offenders = {}
    for name, path in modules({"services": PACKAGES["services"]}).items():
        if name in BUILDERS or name == "services.cli" or name.startswith("services.cli."):
            continue
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
        }
        if calls & BUILT:
            offenders[name] = sorted(calls & BUILT)
    assert offenders == {}
