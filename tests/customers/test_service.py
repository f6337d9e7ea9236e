"""The customer store on SQLite and PostgreSQL: create, fetch, update, find, erase."""

from __future__ import annotations

import pickle

import pytest
from sqlalchemy import select

from privault.crypto import Keyring
from privault.errors import Conflict, InvalidInput, NotFound, RecordRejected, UnknownKey
from privault.runtime import Vault
from privault.store.tables import BlindIndex, Customer

JAN = {
    "first_name": "Jan",
    "last_name": "Novák",
    "email": "Jan.Novak@example.com",
    "phone": "602 123 456",
    "iban": "CZ65 0800 0000 1920 0014 5399",
}


def test_create_fetch_and_find(vault: Vault) -> None:
    ref = vault.customers.create(JAN, language="cs")
    assert ref.public_id.startswith("cus_") and ref.id not in ref.public_id
    assert vault.customers.fetch(ref.id, ["email", "phone", "iban", "city"]) == {
        "email": "Jan.Novak@example.com",
        "phone": "+420602123456",
        "iban": "CZ6508000000192000145399",
        "city": None,
    }
    # lookups go through the blind index and normalise the way the index does
    assert [r.id for r in vault.customers.find("email", "JAN.NOVAK@EXAMPLE.COM")] == [ref.id]
    assert [r.id for r in vault.customers.find("phone", "+420 602 123 456")] == [ref.id]
    assert vault.customers.find("email", "someone.else@example.com") == []
    assert vault.customers.get(ref.id).language == "cs"
    assert vault.customers.count() == 1


def test_update_moves_the_blind_index(vault: Vault) -> None:
    ref = vault.customers.create(JAN)
    vault.customers.update(ref.id, {"email": "jan@example.net", "phone": None})
    assert vault.customers.find("email", "Jan.Novak@example.com") == []
    assert [r.id for r in vault.customers.find("email", "jan@example.net")] == [ref.id]
    assert vault.customers.fetch(ref.id, ["email", "phone", "last_name"]) == {
        "email": "jan@example.net",
        "phone": None,
        "last_name": "Novák",
    }
    assert [r.id for r in vault.customers.find("last_name", "novák")] == [ref.id]


def test_invalid_values_are_all_reported_and_nothing_is_written(vault: Vault) -> None:
    with pytest.raises(RecordRejected) as info:
        vault.customers.create({**JAN, "email": "nope", "iban": "CZ00 1234"})
    assert {p.field for p in info.value.problems} == {"email", "iban"}
    assert "nope" not in str(info.value)
    assert vault.customers.count() == 0
    # Import workers raise it in another process: it crosses back intact.
    again = pickle.loads(pickle.dumps(info.value))  # noqa: S301 - our own bytes
    assert again.problems == info.value.problems and str(again) == str(info.value)
    with vault.engine.connect() as connection:
        assert connection.execute(select(Customer.__table__)).first() is None


def test_unknown_fields_and_customers(vault: Vault) -> None:
    with pytest.raises(RecordRejected, match="unknown field"):
        vault.customers.create({"shoe_size": "44"})
    with pytest.raises(UnknownKey):
        vault.customers.fetch("0" * 32, ["shoe_size"])
    with pytest.raises(NotFound):
        vault.customers.fetch("0" * 32, ["email"])
    with pytest.raises(InvalidInput, match="not searchable"):
        vault.customers.find("city", "Praha")


def test_destroying_the_data_key_erases_the_customer(vault: Vault) -> None:
    ref = vault.customers.create(JAN)
    other = vault.customers.create({**JAN, "email": "other@example.com"})
    vault.customers.destroy_key(ref.id)
    with pytest.raises(Conflict, match="erased"):
        vault.customers.fetch(ref.id, ["email"])
    assert vault.customers.find("email", "Jan.Novak@example.com") == []
    assert vault.customers.fetch(other.id, ["email"]) == {"email": "other@example.com"}
    assert vault.customers.count() == 1
    # ciphertext may remain (as in backups) but there is no key left to open it
    with vault.engine.connect() as connection:
        sealed = connection.execute(
            select(Customer.__table__.c.sealed).where(Customer.__table__.c.id == ref.id)
        ).scalar_one()
        leftovers = Keyring.record_fields(sealed)
        indexes = connection.execute(
            select(BlindIndex.__table__).where(BlindIndex.__table__.c.customer_id == ref.id)
        ).all()
    assert leftovers and not indexes


def test_fetch_many_streams_only_the_requested_fields(vault: Vault) -> None:
    refs = [vault.customers.create({**JAN, "email": f"c{i}@example.com"}) for i in range(7)]
    rows = dict(vault.customers.fetch_many([r.id for r in refs], ["email"]))
    assert rows == {r.id: {"email": f"c{i}@example.com"} for i, r in enumerate(refs)}


def test_blind_index_rows_grow_monotonically_for_incremental_readers(vault: Vault) -> None:
    vault.customers.create(JAN)
    first = vault.customers.fetch_since()
    assert {row.field for row in first} == {"last_name", "email", "phone", "iban", "full_name"}
    vault.customers.create({**JAN, "email": "second@example.com"})
    newer = vault.customers.fetch_since(after_id=max(r.id for r in first))
    assert newer and min(r.id for r in newer) > max(r.id for r in first)
