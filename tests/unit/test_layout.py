"""The folder tree is the architecture (docs/architecture.md): these rules are read from the
code's own imports, so a change that breaks one fails here rather than in a review."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("settings", "vietnamese", "nlu", "actions", "knowledge", "bot")
MAX_LINES = 500
MAX_TOP_MODULES = 10
# Which top-level packages each part may import (besides itself and the standard library).
ALLOWED = {
    "settings": set(),
    "vietnamese": set(),
    # settings: the launcher (nlu/__main__.py) reads the secrets' files; Python 3.10 there.
    "nlu": {"vietnamese", "settings"},
    "knowledge": {"settings", "vietnamese"},
    "actions": {"settings", "vietnamese", "knowledge"},
    "bot": {"settings", "vietnamese", "knowledge"},
    "benchmarks": {"settings", "vietnamese", "knowledge", "bot", "actions", "tests"},
}


def python_files(part: str) -> list[Path]:
    single = ROOT / f"{part}.py"
    if single.exists():
        return [single]
    return sorted(p for p in (ROOT / part).rglob("*.py") if "templates" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def top_imports(part: str) -> dict[str, set[str]]:
    """For each module of ``part``: the project's top-level packages it imports."""
    ours = {*PRODUCT, "benchmarks", "tests"}
    result: dict[str, set[str]] = {}
    for path in python_files(part):
        tops = {name.split(".")[0] for name in imported_modules(path)}
        result[str(path.relative_to(ROOT))] = (tops & ours) - {part}
    return result


@pytest.mark.parametrize("part", [*PRODUCT, "benchmarks"])
def test_each_part_imports_only_what_it_may(part: str) -> None:
    wrong = {
        module: sorted(tops - ALLOWED[part])
        for module, tops in top_imports(part).items()
        if tops - ALLOWED[part]
    }
    assert not wrong, f"{part} may import only {sorted(ALLOWED[part])}: {wrong}"


def test_no_cycle_between_top_level_packages() -> None:
    graph = {part: set().union(*top_imports(part).values()) for part in [*PRODUCT, "benchmarks"]}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [part for part in graph if reaches(part, part, {part})]
    assert not cycles, f"packages in an import cycle: {cycles}"


def test_only_nlu_imports_rasa() -> None:
    """Rasa lives in its own environment: nothing else may need it (rasa_sdk is not rasa)."""
    offenders = [
        str(path.relative_to(ROOT))
        for part in PRODUCT
        if part != "nlu"
        for path in python_files(part)
        if any(name == "rasa" or name.startswith("rasa.") for name in imported_modules(path))
    ]
    assert not offenders


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for part in [*PRODUCT, "benchmarks"]
        for path in python_files(part)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("package", ["bot", "knowledge"])
def test_few_modules_at_the_top_of_a_package(package: str) -> None:
    top = sorted(p.name for p in (ROOT / package).glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, f"{package}/ has {len(top)} modules at its top: {top}"


def test_every_package_says_what_it_holds() -> None:
    silent = [
        str(init.relative_to(ROOT))
        for part in PRODUCT
        for init in (ROOT / part).rglob("__init__.py")
        if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    ]
    assert not silent, f"package without a docstring: {silent}"
