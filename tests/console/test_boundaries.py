"""The console is the one home of pages: every template lives under console/templates,
and the slices whose pages it serves import no web framework, no template engine and
no console (DESIGN.md section 5)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import privault

SRC = Path(privault.__file__).parent
WEB = ("fastapi", "starlette", "jinja2", "privault.console")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("slice_name", ["consent", "incidents"])
def test_slices_import_no_web_layer(slice_name: str) -> None:
    wrong = {
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted((SRC / slice_name).rglob("*.py"))
        for name in imported(path)
        if _within(name, WEB)
    }
    assert wrong == set()


def test_consent_gets_its_collaborators_not_the_vault() -> None:
    wrong = {
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted((SRC / "consent").rglob("*.py"))
        for name in imported(path)
        if _within(name, ("privault.runtime",))
    }
    assert wrong == set()


def test_every_template_lives_in_the_console() -> None:
    templates = {p.relative_to(SRC) for p in SRC.rglob("*.html")}
    assert templates
    assert {p for p in templates if p.parts[:2] != ("console", "templates")} == set()
