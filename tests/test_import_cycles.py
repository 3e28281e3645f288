"""No module of the project imports itself back, at import time or inside a function.

Read from the source (every import statement, in functions too) rather than from
sys.modules, so a circle hidden in a function-level import counts as well.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "access",
    "assistant",
    "knowledge",
    "tickets",
    "macros",
    "satisfaction",
    "search",
    "training",
    "helpdesk",
    "jobs",
    "notifications",
)


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def imports_of(module: str) -> set[str]:
    """The project modules `module` imports anywhere in its source."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                source = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
    return {name for name in found if name in MODULES and name != module}


def _circles() -> list[list[str]]:
    """Groups of modules that reach each other through imports (Tarjan's algorithm)."""
    graph = {module: imports_of(module) for module in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                circles.append(sorted([module, *group]))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def test_no_modules_import_each_other_in_a_circle() -> None:
    assert _circles() == []


def test_the_engine_contract_imports_nothing_of_the_engine() -> None:
    assert imports_of("assistant.engine") == set()
    assert "assistant.engine" in imports_of("assistant.transformers_engine")


def test_assignment_chooses_and_the_lifecycle_assigns() -> None:
    assert "tickets.lifecycle" not in imports_of("tickets.assignment")
    assert "tickets.assignment" in imports_of("tickets.lifecycle")


def test_enqueueing_an_answer_needs_neither_the_lifecycle_nor_the_answer_job() -> None:
    imported = imports_of("tickets.enqueue")

    assert not imported & {"tickets.lifecycle", "tickets.answering", "tickets.tasks"}


def test_the_access_rules_sit_below_every_app() -> None:
    # Every admin applies the matrix, assistant's included: access may import no app.
    for module in (m for m in MODULES if m.split(".")[0] == "access"):
        assert {i.split(".")[0] for i in imports_of(module)} <= {"access"}, module


def test_the_model_side_never_imports_the_training_side() -> None:
    for module in (m for m in MODULES if m.split(".")[0] == "assistant"):
        assert not {i for i in imports_of(module) if i.startswith("training")}, module
