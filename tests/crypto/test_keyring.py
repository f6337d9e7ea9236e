"""Envelope encryption: round trips, tamper detection, key binding, rotation, key files."""

from __future__ import annotations

import base64
import hmac
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privault.crypto import (
    EnvKeyProvider,
    FileKeyProvider,
    Keyring,
    create_key_file,
    open_keyring,
)
from privault.crypto.keyring import _hmac_pads, verify_signature
from privault.errors import ConfigError, DecryptionError


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    create_key_file(path)
    return open_keyring(FileKeyProvider(path))


@pytest.fixture(scope="module")
def other_keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    path = tmp_path_factory.mktemp("keys2") / "keys.json"
    create_key_file(path)
    return open_keyring(FileKeyProvider(path))


ids = st.text(alphabet="0123456789abcdef", min_size=1, max_size=32)
field_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


@given(customer=ids, field=field_names, value=st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_seal_open_round_trip(keyring: Keyring, customer: str, field: str, value: str) -> None:
    key, wrapped = keyring.new_data_key(customer)
    token = keyring.seal(key, customer, field, value)
    assert keyring.open(keyring.unwrap(customer, wrapped), customer, field, token) == value


@given(value=st.text(min_size=1, max_size=100))
@settings(max_examples=50, deadline=None)
def test_same_value_seals_differently_each_time(keyring: Keyring, value: str) -> None:
    key, _ = keyring.new_data_key("c1")
    assert keyring.seal(key, "c1", "email", value) != keyring.seal(key, "c1", "email", value)


def _opaque_failure(call: object) -> str:
    with pytest.raises(DecryptionError) as info:
        call()  # type: ignore[operator]
    return str(info.value)


@given(
    value=st.text(min_size=0, max_size=100),
    position=st.integers(min_value=0, max_value=10_000),
    bit=st.integers(min_value=0, max_value=7),
)
@settings(max_examples=200, deadline=None)
def test_any_flipped_bit_is_caught(keyring: Keyring, value: str, position: int, bit: int) -> None:
    key, _ = keyring.new_data_key("c1")
    token = bytearray(keyring.seal(key, "c1", "email", value))
    token[position % len(token)] ^= 1 << bit
    message = _opaque_failure(lambda: keyring.open(key, "c1", "email", bytes(token)))
    assert message == "The value could not be decrypted."


def test_moved_ciphertext_and_wrong_keys_fail_with_one_opaque_error(
    keyring: Keyring, other_keyring: Keyring
) -> None:
    key_a, wrapped_a = keyring.new_data_key("customer-a")
    key_b, _ = keyring.new_data_key("customer-b")
    token = keyring.seal(key_a, "customer-a", "email", "jan.novak@example.com")
    messages = {
        # moved to another customer (with that customer's key, or with the right key)
        _opaque_failure(lambda: keyring.open(key_b, "customer-b", "email", token)),
        _opaque_failure(lambda: keyring.open(key_a, "customer-b", "email", token)),
        # moved to another field
        _opaque_failure(lambda: keyring.open(key_a, "customer-a", "phone", token)),
        # truncated
        _opaque_failure(lambda: keyring.open(key_a, "customer-a", "email", token[:10])),
        # a wrapped data key moved to another customer
        _opaque_failure(lambda: keyring.unwrap("customer-b", wrapped_a)),
        # a wrong master key
        _opaque_failure(lambda: other_keyring.unwrap("customer-a", wrapped_a)),
    }
    assert messages == {"The value could not be decrypted."}


def test_errors_and_reprs_never_show_plaintext_or_keys(keyring: Keyring) -> None:
    key, _ = keyring.new_data_key("c1")
    token = keyring.seal(key, "c1", "email", "secret.person@example.com")
    with pytest.raises(DecryptionError) as info:
        keyring.open(key, "c1", "phone", token)
    assert "secret" not in repr(info.value)
    assert repr(key) == "DataKey(generation=1)"


def test_rotation_rewraps_under_the_new_version_and_old_version_can_retire(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path)
    provider = FileKeyProvider(path)
    old = open_keyring(provider)
    key, wrapped = old.new_data_key("c1")
    token = old.seal(key, "c1", "name", "Zainab")
    assert Keyring.wrapped_master_version(wrapped) == 1
    assert provider.add_master_version() == 2
    new = open_keyring(provider)
    rewrapped = new.rewrap("c1", wrapped)
    assert Keyring.wrapped_master_version(rewrapped) == 2
    provider.retire_master_version(1)
    retired = open_keyring(provider)
    assert retired.open(retired.unwrap("c1", rewrapped), "c1", "name", token) == "Zainab"
    with pytest.raises(DecryptionError):
        retired.unwrap("c1", wrapped)
    with pytest.raises(ConfigError):
        provider.retire_master_version(2)  # the active version cannot retire


def test_key_file_is_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "home" / "keys.json"
    create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        create_key_file(path)
    assert path.read_bytes() == before


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        FileKeyProvider(path).load()


def test_missing_or_corrupt_key_file_gives_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="privault init"):
        FileKeyProvider(tmp_path / "none.json").load()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    bad.chmod(0o600)
    with pytest.raises(ConfigError, match="not valid JSON"):
        FileKeyProvider(bad).load()


def test_environment_provider() -> None:
    def b64() -> str:
        return base64.b64encode(os.urandom(32)).decode()

    environ = {
        "PRIVAULT_MASTER_KEYS": f"1:{b64()},2:{b64()}",
        "PRIVAULT_ACTIVE_MASTER_KEY": "2",
        "PRIVAULT_BLIND_INDEX_KEY": b64(),
        "PRIVAULT_SIGNING_SEED": b64(),
    }
    keyring = open_keyring(EnvKeyProvider(environ))
    assert keyring.active_version == 2
    _, wrapped = keyring.new_data_key("c1")
    assert Keyring.wrapped_master_version(wrapped) == 2
    with pytest.raises(ConfigError, match="PRIVAULT_BLIND_INDEX_KEY"):
        EnvKeyProvider({k: v for k, v in environ.items() if k != "PRIVAULT_BLIND_INDEX_KEY"}).load()
    with pytest.raises(ConfigError):
        EnvKeyProvider({**environ, "PRIVAULT_MASTER_KEYS": "1:short"}).load()
    with pytest.raises(ConfigError, match="secrets manager"):
        EnvKeyProvider(environ).add_master_version()


def test_blind_index_is_keyed_deterministic_and_namespaced(
    keyring: Keyring, other_keyring: Keyring
) -> None:
    a = keyring.blind_index("email", "jan@example.com")
    assert a == keyring.blind_index("email", "jan@example.com")
    assert len(a) == 16
    assert a != keyring.blind_index("name", "jan@example.com")
    assert a != other_keyring.blind_index("email", "jan@example.com")


def test_checkpoint_signatures_verify_with_the_public_key_only(keyring: Keyring) -> None:
    signature = keyring.sign(b"head")
    public = keyring.public_signing_key()
    assert verify_signature(public, b"head", signature)
    assert not verify_signature(public, b"head2", signature)


@given(context=st.text(max_size=20), payload=st.binary(max_size=100))
@settings(max_examples=100, deadline=None)
def test_references_round_trip_and_are_bound_to_their_context(
    keyring: Keyring, context: str, payload: bytes
) -> None:
    sealed = keyring.seal_reference(context, payload)
    assert keyring.open_reference(context, sealed) == payload
    with pytest.raises(DecryptionError):
        keyring.open_reference(context + "x", sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        keyring.open_reference(context, bytes(tampered))


# -- sealed records: one customer's fields in one value, each still its own token -------

records = st.dictionaries(field_names, st.text(max_size=200), max_size=8)


@given(customer=ids, values=records, asked=st.lists(field_names, max_size=6, unique=True))
@settings(max_examples=200, deadline=None)
def test_sealed_records_round_trip_and_open_only_what_is_asked(
    keyring: Keyring, customer: str, values: dict[str, str], asked: list[str]
) -> None:
    wrapped, record = keyring.new_record(customer, values)
    assert set(Keyring.record_fields(record)) == set(values)
    expected = {name: values.get(name) for name in asked}
    key = keyring.unwrap(customer, wrapped)
    assert Keyring.open_record(key, customer, record, asked) == expected
    assert keyring.open_records([(customer, wrapped, record)], asked) == {customer: expected}


def test_a_record_field_is_the_same_token_as_a_sealed_field(keyring: Keyring) -> None:
    """Field by field, a record holds exactly what ``seal`` makes: same AAD binding."""
    wrapped, record = keyring.new_record("c1", {"email": "jan@example.com"})
    key = keyring.unwrap("c1", wrapped)
    single = keyring.seal(key, "c1", "phone", "+420602123456")
    assert keyring.open(key, "c1", "phone", single) == "+420602123456"
    updated = Keyring.update_record(key, "c1", record, {"phone": "+420602123456"})
    assert Keyring.open_record(key, "c1", updated, ["email", "phone"]) == {
        "email": "jan@example.com",
        "phone": "+420602123456",
    }


def test_update_record_replaces_removes_and_keeps_other_tokens(keyring: Keyring) -> None:
    wrapped, record = keyring.new_record("c1", {"email": "a@example.com", "city": "Brno"})
    key = keyring.unwrap("c1", wrapped)
    updated = Keyring.update_record(key, "c1", record, {"email": "b@example.com", "city": None})
    assert Keyring.open_record(key, "c1", updated, ["email", "city"]) == {
        "email": "b@example.com",
        "city": None,
    }
    kept = Keyring.update_record(key, "c1", record, {"phone": "+420602123456"})
    assert kept.startswith(record)  # untouched tokens are carried over byte for byte


@given(position=st.integers(min_value=0, max_value=10_000), bit=st.integers(0, 7))
@settings(max_examples=300, deadline=None)
def test_a_tampered_record_never_opens_to_a_wrong_value(
    keyring: Keyring, position: int, bit: int
) -> None:
    """Any flipped bit: one opaque error, or (a renamed entry) the field reads as absent,
    as a deleted row did -- never another value."""
    values = {"email": "jan@example.com", "phone": "+420602123456", "city": "Brno"}
    wrapped, record = keyring.new_record("c1", values)
    tampered = bytearray(record)
    tampered[position % len(tampered)] ^= 1 << bit
    key = keyring.unwrap("c1", wrapped)
    opened: list[dict[str, str | None]] = []
    try:
        opened.append(Keyring.open_record(key, "c1", bytes(tampered), list(values)))
    except DecryptionError as exc:
        assert str(exc) == "The value could not be decrypted."
    try:
        rows = keyring.open_records([("c1", wrapped, bytes(tampered))], list(values))
        opened.append(rows["c1"])
    except DecryptionError as exc:
        assert str(exc) == "The value could not be decrypted."
    for found in opened:
        assert all(found[name] in (None, value) for name, value in values.items())
        assert any(found[name] is None for name in values)


def test_a_record_moved_to_another_customer_or_key_fails_opaquely(
    keyring: Keyring, other_keyring: Keyring
) -> None:
    wrapped_a, record_a = keyring.new_record("customer-a", {"email": "jan@example.com"})
    wrapped_b, _ = keyring.new_record("customer-b", {"email": "eva@example.com"})
    key_a, key_b = keyring.unwrap("customer-a", wrapped_a), keyring.unwrap("customer-b", wrapped_b)
    messages = {
        _opaque_failure(lambda: Keyring.open_record(key_b, "customer-b", record_a, ["email"])),
        _opaque_failure(lambda: Keyring.open_record(key_a, "customer-b", record_a, ["email"])),
        _opaque_failure(
            lambda: keyring.open_records([("customer-b", wrapped_b, record_a)], ["email"])
        ),
        _opaque_failure(
            lambda: keyring.open_records([("customer-b", wrapped_a, record_a)], ["email"])
        ),
        _opaque_failure(
            lambda: other_keyring.open_records([("customer-a", wrapped_a, record_a)], [])
        ),
        _opaque_failure(lambda: Keyring.open_record(key_a, "customer-a", b"", ["email"])),
        _opaque_failure(lambda: Keyring.open_record(key_a, "customer-a", record_a[:-1], [])),
    }
    assert messages == {"The value could not be decrypted."}


@given(key=st.binary(min_size=1, max_size=100), message=st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_blind_index_hmac_is_standard_hmac_sha256(key: bytes, message: bytes) -> None:
    """The precomputed-pad HMAC equals the standard library's, for any key length."""
    inner, outer = _hmac_pads(key)
    inner.update(message)
    outer.update(inner.digest())
    assert outer.digest() == hmac.digest(key, message, "sha256")


def test_blind_indexes_are_unchanged_by_the_faster_hmac(keyring: Keyring) -> None:
    expected = hmac.digest(keyring._blind_key, b"email\x00jan@example.com", "sha256")[:16]
    assert keyring.blind_index("email", "jan@example.com") == expected
