"""One composition root: no module of the package but ``privault.runtime`` builds a
service or loads the policy, and no domain package imports the root.

A shell that wired its own gate or audit log could skip a decision or an entry (R1);
this test makes that a failing build instead of a review comment.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "privault"
ROOT = SRC / "runtime.py"

# Built by the root only (the classes' own modules define them; tests build fakes).
SERVICES = frozenset(
    {
        "AccessGate",
        "AuditLog",
        "ConsentService",
        "CustomerImporter",
        "CustomerService",
        "EgressDecider",
        "IncidentService",
        "LinkSigner",
        "Notifier",
        "PrincipalService",
        "ReadScheduler",
    }
)
ONLY_IN_ROOT = frozenset({"load_policy", "open_keyring"})
# Services may build their own parts from what they were given (ConsentService builds
# its ledger and notices; the importer's worker processes open their own key ring).
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("crypto/providers.py", "open_keyring"),
        ("crypto/keyring.py", "open_keyring"),
        ("customers/importer.py", "open_keyring"),
        ("customers/rotation.py", "open_keyring"),
        ("customers/importer.py", "CustomerImporter"),
        ("policy/engine.py", "load_policy"),
        ("policy/loader.py", "load_policy"),
        ("policy/__init__.py", "load_policy"),
    }
)


def _called(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name):
                names.add(function.id)
            elif isinstance(function, ast.Attribute):
                names.add(function.attr)
    return names


def test_only_the_root_builds_services_and_loads_the_policy() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path == ROOT:
            continue
        relative = path.relative_to(SRC).as_posix()
        for name in _called(ast.parse(path.read_text(encoding="utf-8"))):
            if name in SERVICES | ONLY_IN_ROOT and (relative, name) not in ALLOWED:
                found.append(f"{relative}: {name}(...)")
    assert found == [], "build these in privault.runtime and pass them in: " + ", ".join(found)


def test_the_root_builds_each_of_them() -> None:
    built = _called(ast.parse(ROOT.read_text(encoding="utf-8")))
    assert (SERVICES | ONLY_IN_ROOT) - built == set()
