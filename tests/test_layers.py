"""Imports point one way: kernel → jobs, models, gates, ML → orchestration → DAGs.

Read from the code itself (every import statement, at module level or inside a function), so a
shortcut taken in a hurry fails here rather than in a reviewer's memory. The allowed edges are the
layout of docs/STYLE.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from creditlake.settings import PROJECT_ROOT

#: The project's own top-level packages and folders of Python code.
LAYERS = (
    "creditlake",
    "spark_jobs",
    "expectations",
    "ml",
    "orchestration",
    "generator",
    "dags",
    "bench",
)
#: What each may import of the project, besides itself.
ALLOWED: dict[str, set[str]] = {
    "creditlake": set(),
    "spark_jobs": {"creditlake"},
    "expectations": {"creditlake"},
    "ml": {"creditlake"},
    "orchestration": {"creditlake", "spark_jobs", "expectations", "ml", "generator"},
    "generator": {"creditlake", "ml"},
    "dags": {"creditlake", "orchestration"},
    # The benchmark harness is outside the product: it drives every layer, and none imports it.
    "bench": {"creditlake", "spark_jobs", "expectations", "ml", "orchestration", "generator"},
}
#: The generator is a tool beside the platform: of the ML layer it uses only the one AUC.
NARROW: dict[tuple[str, str], set[str]] = {("generator", "ml"): {"ml.metrics"}}


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every absolute import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _files(layer: str) -> list[Path]:
    return sorted((PROJECT_ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    files = _files(layer)
    assert files, f"no Python files under {layer}/"
    wrong = []
    for path in files:
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top not in LAYERS or top == layer:
                continue
            allowed = top in ALLOWED[layer]
            narrow = NARROW.get((layer, top))
            if allowed and narrow is not None:
                allowed = any(module == m or module.startswith(f"{m}.") for m in narrow)
            if not allowed:
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_orchestration_is_not_inside_the_kernel() -> None:
    kernel = {p.relative_to(PROJECT_ROOT / "creditlake").parts[0] for p in _files("creditlake")}
    assert not kernel & {"orchestration", "generator", "cli.py", "demo.py", "summary.py"}


def test_no_module_outgrows_its_role() -> None:
    """A module past ~500 lines holds more than one role: split it (docs/STYLE.md)."""
    long = [
        f"{path.relative_to(PROJECT_ROOT)}: {lines} lines"
        for layer in LAYERS
        for path in _files(layer)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    ]
    assert not long, "\n".join(long)
