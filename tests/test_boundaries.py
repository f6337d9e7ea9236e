"""The import contracts of DESIGN.md §5, checked by tests rather than by hope.

Every module of ``src/privault`` belongs to one layer; dependencies point inward::

    delivery   api cli console relay client __main__
    root       runtime
    slices     customers consent access incidents demo (rights retention ropa approvals)
    cores      policy crypto audit scan i18n catalog store errors clock settings text documents

The contracts are read from the source with ``ast``: every ``import`` counts, including
those inside functions and under ``if TYPE_CHECKING:`` -- a type-only import of the root
is still coupling.  ``KNOWN_VIOLATIONS`` lists the breaches that exist today and are
being removed; it may only shrink (an entry that no longer occurs fails the suite too).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

CORES = frozenset(
    {
        "policy",
        "crypto",
        "audit",
        "scan",
        "i18n",
        "catalog",
        "store",
        "errors",
        "clock",
        "calendar",
        "settings",
        "text",
        "documents",
    }
)
SLICES = frozenset(
    {
        "customers",
        "consent",
        "access",
        "incidents",
        "rights",
        "retention",
        "ropa",
        "approvals",
    }
)
# ``demo`` plays a whole story over an opened vault, as a shell does (``privault demo``).
DELIVERY = frozenset({"api", "cli", "console", "relay", "client", "demo", "__main__"})
COMPOSITION_ROOT = frozenset({"runtime"})
# ``privault/__init__.py`` itself: the public face, which must stay light (checked below).
PACKAGE = "privault"

WEB = ("fastapi", "starlette")
DATABASE = ("sqlalchemy", "alembic", "psycopg", "privault.store")

# (importing module, what it must not import).  Each entry is being removed by a change
# in flight; delete it with that change.  The list may only shrink.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported_names(module: str, is_package: bool, tree: ast.AST) -> Iterator[str]:
    """Every name an import statement anywhere in ``tree`` may load, absolute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            # ``from privault import runtime`` imports the module privault.runtime.
            yield from (f"{target}.{alias.name}" for alias in node.names if alias.name != "*")


@cache
def imports() -> dict[str, frozenset[str]]:
    """Module -> the absolute names its source imports (migrations excluded)."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted((SRC / "privault").rglob("*.py")):
        if "migrations" in path.relative_to(SRC).parts:
            continue
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found[module] = frozenset(_imported_names(module, _is_package(path), tree))
    return found


def _unit(module: str) -> str:
    """``privault.consent.views`` -> ``consent``; the package itself -> ``privault``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer(module: str) -> str:
    unit = _unit(module)
    for name, units in (
        ("core", CORES),
        ("slice", SLICES),
        ("delivery", DELIVERY),
        ("root", COMPOSITION_ROOT),
    ):
        if unit in units:
            return name
    return "package" if module == PACKAGE else "unknown"


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _reported(name: str, forbidden: str) -> str:
    """What a breach is filed under: the forbidden prefix, or for a ban on all of
    privault the unit imported (``privault.access``)."""
    if forbidden == PACKAGE and name != PACKAGE:
        return f"{PACKAGE}.{_unit(name)}"
    return forbidden


@dataclass(frozen=True)
class Contract:
    description: str
    applies_to: Callable[[str], bool]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()

    def violations(self) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for module, names in imports().items():
            if not self.applies_to(module):
                continue
            for name in names:
                if any(_matches(name, allowed) for allowed in self.allowed):
                    continue
                found.update(
                    (module, _reported(name, bad)) for bad in self.forbidden if _matches(name, bad)
                )
        return found


def _in(*layers: str) -> Callable[[str], bool]:
    return lambda module: layer(module) in layers


def _privault(units: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(f"privault.{unit}" for unit in units))


CONTRACTS = [
    Contract(
        "cores import no slice, delivery shell or the composition root",
        _in("core"),
        _privault(SLICES | DELIVERY | COMPOSITION_ROOT),
    ),
    Contract(
        "slices import no delivery shell and not the composition root",
        _in("slice"),
        _privault(DELIVERY | COMPOSITION_ROOT),
    ),
    Contract("cores and slices import no web framework", _in("core", "slice"), WEB),
    Contract(
        "the policy engine imports no database or web code",
        lambda module: _unit(module) == "policy",
        DATABASE + WEB,
    ),
    Contract(
        "only privault.crypto touches cryptography.hazmat",
        lambda module: _unit(module) != "crypto",
        ("cryptography.hazmat",),
    ),
    Contract(
        "the client SDK imports nothing of privault but privault.errors",
        lambda module: _unit(module) == "client",
        ("privault",),
        allowed=("privault.errors", "privault.client"),
    ),
    Contract(
        "the package itself imports only privault.errors",
        lambda module: module == PACKAGE,
        ("privault",),
        allowed=("privault.errors",),
    ),
]


def test_every_module_is_in_a_layer() -> None:
    unplaced = sorted(module for module in imports() if layer(module) == "unknown")
    assert not unplaced, f"place these in a layer of tests/test_boundaries.py: {unplaced}"


def test_imports_are_read_everywhere() -> None:
    found = imports()
    assert "privault.runtime" in found["privault.cli.serve"]
    assert "privault.errors.PrivaultError" in found["privault.api.problems"]
    assert "privault.i18n" in found["privault.errors"]  # inside a method
    assert "privault.i18n.Language" in found["privault.errors"]  # under TYPE_CHECKING


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.description)
def test_contract(contract: Contract) -> None:
    new = sorted(contract.violations() - KNOWN_VIOLATIONS)
    assert not new, f"{contract.description}; these modules break it: {new}"


def test_known_violations_only_shrink() -> None:
    """An entry that no longer occurs must be deleted, so that it cannot come back."""
    occurring = set().union(*(contract.violations() for contract in CONTRACTS))
    gone = sorted(KNOWN_VIOLATIONS - occurring)
    assert not gone, f"fixed now, so remove them from KNOWN_VIOLATIONS: {gone}"


# -- at run time -------------------------------------------------------------------------

SERVER_PACKAGES = frozenset(
    {
        "sqlalchemy",
        "fastapi",
        "starlette",
        "uvicorn",
        "alembic",
        "cryptography",
        "psycopg",
        "typer",
        "jinja2",
        "babel",
        "itsdangerous",
    }
)


def _loaded_by(statement: str) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", f"{statement}; import sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    return set(result.stdout.split())


def test_the_client_loads_no_server_code() -> None:
    loaded = _loaded_by("import privault.client")
    assert "privault.client" in loaded
    server = sorted({name.split(".")[0] for name in loaded} & SERVER_PACKAGES)
    assert not server, f"import privault.client loads server packages: {server}"
    ours = sorted(
        name
        for name in loaded
        if _matches(name, PACKAGE)
        and name not in (PACKAGE, "privault.errors")
        and not _matches(name, "privault.client")
    )
    assert not ours, f"import privault.client loads server modules: {ours}"
