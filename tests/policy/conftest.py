"""Fixtures for the policy tests: the example policy compiled once per session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from privault.catalog.fields import FieldCatalog, Verification, load_fields
from privault.catalog.taxonomy import Taxonomy
from privault.policy import Policy, PolicyEngine, compile_policy, load_policy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def catalog(taxonomy: Taxonomy) -> FieldCatalog:
    return load_fields(taxonomy)


@pytest.fixture(scope="session")
def public_catalog(catalog: FieldCatalog) -> FieldCatalog:
    """The shipped fields with ``country`` and ``company`` verified public."""
    proof = Verification("public", "dpo", datetime(2026, 11, 1, tzinfo=UTC), "published register")
    return catalog.with_verifications({"country": proof, "company": proof})


@pytest.fixture(scope="session")
def policy(taxonomy: Taxonomy) -> Policy:
    return load_policy(None, taxonomy)


@pytest.fixture(scope="session")
def engine(policy: Policy, catalog: FieldCatalog, taxonomy: Taxonomy) -> PolicyEngine:
    return compile_policy(policy, catalog, taxonomy)
