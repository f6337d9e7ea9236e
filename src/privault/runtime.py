"""The composition root: settings in, a ready vault out.  No globals, no import-time reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from privault.catalog.fields import DEFAULT_FIELDS_FILE, FieldCatalog, load_fields
from privault.catalog.taxonomy import Taxonomy
from privault.catalog.verifications import load_verifications
from privault.clock import Clock, SystemClock
from privault.crypto import EnvKeyProvider, FileKeyProvider, KeyProvider, Keyring, open_keyring
from privault.customers.service import CustomerService
from privault.errors import N_, ConfigError
from privault.settings import Settings
from privault.store.checkpoint import WalCheckpointer
from privault.store.db import make_engine
from privault.store.migrate import current_revision, head_revision


def key_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "env":
        return EnvKeyProvider()
    return FileKeyProvider(settings.effective_key_file)


@dataclass
class Vault:
    settings: Settings
    engine: Engine
    keyring: Keyring
    taxonomy: Taxonomy
    clock: Clock
    checkpointer: WalCheckpointer | None = field(default=None, repr=False)

    @cached_property
    def catalog(self) -> FieldCatalog:
        fields = load_fields(self.taxonomy, self.settings.fields_path or DEFAULT_FIELDS_FILE)
        return fields.with_verifications(load_verifications(self.engine))

    @cached_property
    def customers(self) -> CustomerService:
        return CustomerService(
            self.engine,
            self.keyring,
            self.catalog,
            self.clock,
            self.settings.phone_regions,
            key_provider(self.settings),
        )

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


def open_vault(
    settings: Settings, clock: Clock | None = None, *, check_schema: bool = True
) -> Vault:
    """Open an initialised vault; a clear error if ``privault init`` has not been run."""
    engine = make_engine(settings)
    if check_schema:
        revision = current_revision(engine)
        if revision is None:
            engine.dispose()
            raise ConfigError(N_("The vault is not initialised; run 'privault init' first."))
        if revision != head_revision():
            engine.dispose()
            raise ConfigError(N_("The database schema is out of date; run 'privault upgrade'."))
    keyring = open_keyring(key_provider(settings))
    vault = Vault(
        settings=settings,
        engine=engine,
        keyring=keyring,
        taxonomy=Taxonomy.load(settings.taxonomy_extensions),
        clock=clock or SystemClock(),
    )
    interval = settings.sqlite_checkpoint_interval_seconds
    if interval is not None and engine.dialect.name == "sqlite":
        vault.checkpointer = WalCheckpointer(engine, interval)
        vault.checkpointer.start()
    return vault
