"""The taxonomy and the field catalog: hierarchy, unknown keys, extensions, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from privault.catalog.fields import load_fields
from privault.catalog.taxonomy import Taxonomy, ancestors, covers
from privault.errors import ConfigError, UnknownKey


def test_default_taxonomy_has_the_keys_privault_relies_on() -> None:
    taxonomy = Taxonomy.load()
    for key in ("user.contact.email", "user.contact.phone_number", "user.financial.bank_account"):
        assert taxonomy.has_category(key)
    for key in ("essential.service", "marketing.communications.email", "third_party_sharing"):
        assert taxonomy.has_use(key)


def test_hierarchy() -> None:
    assert covers("user.contact", "user.contact.email")
    assert covers("user.contact.email", "user.contact.email")
    assert not covers("user.contact.email", "user.contact")
    assert not covers("user.contact", "user.contactless")
    assert ancestors("a.b.c") == ("a.b.c", "a.b", "a")


def test_unknown_keys_are_rejected_with_suggestions() -> None:
    taxonomy = Taxonomy.load()
    with pytest.raises(UnknownKey, match=r"marketing\.communications\.email"):
        taxonomy.require_use("marketing.comunications.email")
    with pytest.raises(UnknownKey, match="Unknown data category"):
        taxonomy.require_category("user.shoe_size")


def test_organisations_extend_the_taxonomy(tmp_path: Path) -> None:
    extension = tmp_path / "ours.yaml"
    extension.write_text(
        "data_uses:\n"
        "  - key: marketing.communications.newsletter\n"
        "    name: Newsletter\n"
        "    parent: marketing.communications\n"
    )
    taxonomy = Taxonomy.load([extension])
    assert taxonomy.has_use("marketing.communications.newsletter")
    assert not Taxonomy.load().has_use("marketing.communications.newsletter")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("data_uses:\n  - key: x.y\n    name: X\n    parent: nowhere\n", "unknown parent"),
        ("data_uses:\n  - key: marketing\n    name: Again\n", "defined twice"),
        ("data_uses:\n  - key: marketing.x\n    name: X\n    colour: red\n", "colour"),
        ("data_uses: [unclosed\n", "not valid YAML"),
        ("data_uses:\n  - key: elsewhere.x\n    name: X\n    parent: marketing\n", "must start"),
    ],
)
def test_bad_extension_files_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    extension = tmp_path / "bad.yaml"
    extension.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        Taxonomy.load([extension])
    assert "bad.yaml" in str(info.value)


def test_default_fields_load_and_are_confidential() -> None:
    catalog = load_fields(Taxonomy.load())
    expected = {
        "first_name",
        "last_name",
        "email",
        "phone",
        "street",
        "city",
        "postal_code",
        "date_of_birth",
        "customer_number",
        "company",
        "iban",
    }
    assert expected <= set(catalog.names)
    assert {f.classification for f in catalog} == {"confidential"}
    assert catalog.require("email").searchable
    with pytest.raises(UnknownKey):
        catalog.require("shoe_size")


def test_fields_file_with_unknown_purpose_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(
        "fields:\n  - name: email\n    category: user.contact.email\n    kind: email\n"
        "    collected_for: [marketing.spam]\n"
    )
    with pytest.raises(ConfigError, match=r"fields.0 \(email\).*marketing.spam"):
        load_fields(Taxonomy.load(), path)
