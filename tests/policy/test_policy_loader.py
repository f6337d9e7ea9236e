"""Loading policy YAML: errors name file, entry and problem; directories merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from privault.catalog.taxonomy import Taxonomy
from privault.errors import ConfigError
from privault.policy import EXAMPLE_POLICY, load_policy

TAXONOMY = Taxonomy.load()
BASE = """
purposes:
  - key: marketing.communications.email
    basis: consent
    needs: [user.contact.email]
roles:
  - name: marketing
    purposes: [marketing]
    views: {user.contact.email: plain}
    max_customers: 10
principals:
  - name: ayesha
    roles: [marketing]
"""


def load_text(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_policy(path, TAXONOMY)
    return str(caught.value)


def test_example_loads_with_version_and_digest() -> None:
    policy = load_policy(EXAMPLE_POLICY, TAXONOMY)
    assert policy.version == "2026-12-01"
    assert len(policy.digest) == 64
    assert "jana.dvorakova" in policy.principals


@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (
            ("max_customers: 10", "max_customers: 10\n    colour: red"),
            "roles[0] (marketing).colour",
            "Extra inputs",
        ),
        (
            ("basis: consent", "basis: whim"),
            "purposes[0] (marketing.communications.email).basis",
            "",
        ),
        (
            ("needs: [user.contact.email]", "needs: [user.shoe_size]"),
            "purposes[0] (marketing.communications.email).needs",
            "unknown data category 'user.shoe_size'",
        ),
        (
            ("roles: [marketing]", "roles: [marketeer]"),
            "principals[0] (ayesha).roles",
            "unknown role 'marketeer'",
        ),
        (
            ("purposes: [marketing]", "purposes: [marketting]"),
            "roles[0] (marketing).purposes",
            "unknown purpose",
        ),
        (
            ("{user.contact.email: plain}", "{user.contact.email: naked}"),
            "roles[0] (marketing).views",
            "",
        ),
    ],
)
def test_errors_name_file_entry_and_problem(
    tmp_path: Path, change: tuple[str, str], entry: str, problem: str
) -> None:
    path = load_text(tmp_path, BASE.replace(*change))
    message = error(path)
    assert str(path) in message and entry in message and problem in message


def test_external_principal_needs_a_declared_organisation(tmp_path: Path) -> None:
    text = BASE + (
        "  - name: partner-api\n    internal: false\n    organisation: nobody\n"
        "    roles: [marketing]\n"
    )
    assert "principals[1] (partner-api).organisation" in error(load_text(tmp_path, text))


def test_directory_merges_files_and_rejects_duplicates(tmp_path: Path) -> None:
    load_text(tmp_path, BASE, "10-base.yaml")
    load_text(tmp_path, "principals:\n  - name: eva\n    roles: [marketing]\n", "20-more.yaml")
    load_text(tmp_path, "cases: []\n", "20-more_tests.yaml")  # test cases are not policy
    policy = load_policy(tmp_path, TAXONOMY)
    assert set(policy.principals) == {"ayesha", "eva"}
    load_text(tmp_path, "principals:\n  - name: eva\n    roles: [marketing]\n", "30-again.yaml")
    message = error(tmp_path)
    assert "30-again.yaml" in message and "principals[0] (eva)" in message


def test_missing_path_and_bad_yaml(tmp_path: Path) -> None:
    assert "does not exist" in error(tmp_path / "nope.yaml")
    assert "not valid YAML" in error(load_text(tmp_path, "roles: [\n"))
