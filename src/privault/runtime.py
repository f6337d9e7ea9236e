"""The composition root: settings in, a ready vault out.  No globals, no import-time reads.

``open_vault(settings)`` opens the store, the key ring and the audit log, loads the
policy once, and builds every service with its collaborators.  The shells (API, CLI,
pages, scanner, jobs) get their services here and nowhere else; the services below
never import this module -- they receive what they use (STYLE.md, cosmicpython's
``bootstrap``).  ``load_policy`` is called in this module only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from privault.access.egress import EgressDecider
from privault.access.gate import AccessGate
from privault.access.principals import PrincipalService
from privault.access.reads import ReadScheduler
from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.catalog.fields import DEFAULT_FIELDS_FILE, FieldCatalog, load_fields
from privault.catalog.taxonomy import Taxonomy
from privault.catalog.verifications import load_verifications
from privault.clock import Clock, SystemClock
from privault.consent.links import LinkSigner
from privault.consent.service import ConsentService
from privault.crypto import (
    EnvKeyProvider,
    FileKeyProvider,
    KeyProvider,
    Keyring,
    create_key_file,
    open_keyring,
)
from privault.customers.importer import CustomerImporter
from privault.customers.rotation import RotationReport, retire, rotate
from privault.customers.service import CustomerService
from privault.errors import N_, ConfigError
from privault.incidents.detectors import IncidentBlockHandler
from privault.incidents.notify import Notifier
from privault.incidents.service import IncidentService
from privault.incidents.velocity import VelocityCounter
from privault.policy import Policy, load_policy
from privault.scan import (
    BlockHandler,
    CustomerIndex,
    ExactMatcher,
    Scanner,
    default_registry,
)
from privault.settings import Settings
from privault.store.checkpoint import WalCheckpointer
from privault.store.db import make_engine
from privault.store.migrate import current_revision, head_revision
from privault.store.migrate import upgrade as migrate
from privault.store.vault_id import (
    check_vault_id,
    new_vault_id,
    record_vault_id,
    stored_vault_id,
)


def key_provider(settings: Settings) -> KeyProvider:
    if settings.key_provider == "env":
        return EnvKeyProvider()
    return FileKeyProvider(settings.effective_key_file)


def recognisers_only(settings: Settings) -> Scanner:
    """A scanner with the recognisers alone (``--no-match``): no vault needed."""
    return Scanner(default_registry(settings.phone_regions))


def read_policy(path: Path | None, taxonomy: Taxonomy | None = None) -> Policy:
    """A policy file checked on its own (``privault policy check FILE``), outside a vault."""
    return load_policy(path, taxonomy)


@dataclass
class Vault:
    """One opened vault and every service over it, each built once, on first use."""

    settings: Settings
    engine: Engine
    keyring: Keyring
    taxonomy: Taxonomy
    clock: Clock
    checkpointer: WalCheckpointer | None = field(default=None, repr=False)

    # -- what everything shares --------------------------------------------------------

    @cached_property
    def policy(self) -> Policy:
        """The policy file, loaded once (run-time principals: ``effective_policy``)."""
        return load_policy(self.settings.policy_path, self.taxonomy)

    def effective_policy(self) -> Policy:
        """The policy file's principals plus those added at run time."""
        return self.principals.effective_policy(self.policy)

    @cached_property
    def catalog(self) -> FieldCatalog:
        fields = load_fields(self.taxonomy, self.settings.fields_path or DEFAULT_FIELDS_FILE)
        return fields.with_verifications(load_verifications(self.engine))

    @cached_property
    def audit(self) -> AuditLog:
        # Each batch of decisions also counts the distinct customers every principal
        # read, in the batch's own transaction (R7: the velocity detector).
        return AuditLog(
            self.engine,
            self.keyring,
            self.clock,
            observer=VelocityCounter(self.settings.incident_velocity_window_seconds),
        )

    # -- the services ------------------------------------------------------------------

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

    @cached_property
    def importer(self) -> CustomerImporter:
        return CustomerImporter(self.customers, self.audit)

    @cached_property
    def principals(self) -> PrincipalService:
        return PrincipalService(self.engine, self.clock, self.audit)

    @cached_property
    def consent(self) -> ConsentService:
        return ConsentService(self.engine, self.taxonomy, self.clock, self.audit)

    @cached_property
    def links(self) -> LinkSigner:
        """Signed preference-centre links (the pages' CSRF is ``console.csrf``)."""
        return LinkSigner(
            self.keyring,
            self.clock,
            self.settings.public_base_url,
            self.settings.preference_link_days,
        )

    @cached_property
    def gate(self) -> AccessGate:
        return AccessGate(
            engine=self.engine,
            keyring=self.keyring,
            clock=self.clock,
            taxonomy=self.taxonomy,
            catalog=self.catalog,
            customers=self.customers,
            audit=self.audit,
            principals=self.principals,
            consent=self.consent,
            policy=self.policy,
        )

    @cached_property
    def reads(self) -> ReadScheduler:
        """Single-customer reads for a server: batching and thread offload (API)."""
        return ReadScheduler(self.gate, self.engine)

    @cached_property
    def incidents(self) -> IncidentService:
        return IncidentService(
            engine=self.engine,
            keyring=self.keyring,
            clock=self.clock,
            settings=self.settings,
            catalog=self.catalog,
            customers=self.customers,
            audit=self.audit,
            policy=self.effective_policy,
            notifier=Notifier(self.settings),
        )

    def warm(self) -> None:
        """Build what a server uses now, at start-up (before ``gc.freeze``), not on the
        first request: the gate with its compiled policy, the read scheduler, consent,
        incidents and links."""
        _ = self.gate.engine, self.reads, self.consent, self.incidents, self.links

    # -- egress ------------------------------------------------------------------

    def scanner(self) -> Scanner:
        """A scanner that also recognises our own customers (exact match over the blind
        indexes, brought up to date now)."""
        index = CustomerIndex(self.customers)
        index.refresh()
        return Scanner(
            default_registry(self.settings.phone_regions),
            matcher=ExactMatcher(index, self.keyring),
        )

    @cached_property
    def _live_scanner(self) -> Scanner:
        return self.scanner()

    def live_scanner(self) -> Scanner:
        """One scanner kept for a server's life, its index brought up to date (only the
        rows added since the last call are read)."""
        scanner = self._live_scanner
        if scanner.matcher is not None:
            scanner.matcher.index.refresh()
        return scanner

    @cached_property
    def plain_scanner(self) -> Scanner:
        """The recognisers alone (``--no-match``, ``"match": false``)."""
        return recognisers_only(self.settings)

    @cached_property
    def egress(self) -> EgressDecider:
        """The scanner's egress policy: the gate's decision and the consent ledger."""
        return EgressDecider(self.gate)

    def block_handler(self, actor: str, *, open_incident: bool = True) -> BlockHandler:
        """R7: a ``block`` verdict opens an incident (or adds to the open one); with
        ``open_incident=False`` (compliance only, ``--no-incident``) it is audited."""
        return IncidentBlockHandler(self.incidents, actor=actor, open_incident=open_incident)

    # -- key ring operations -------------------------------------------------------

    def rotate_master_key(
        self, progress: Callable[[int], None] | None = None, *, actor: str
    ) -> RotationReport:
        return rotate(
            self.engine,
            key_provider(self.settings),
            progress,
            audit=self.audit,
            clock=self.clock,
            actor=actor,
        )

    def retire_master_key(self, version: int, *, actor: str) -> None:
        retire(
            self.engine,
            key_provider(self.settings),
            version,
            audit=self.audit,
            clock=self.clock,
            actor=actor,
        )

    def close(self) -> None:
        reads = self.__dict__.get("reads")
        if isinstance(reads, ReadScheduler):
            reads.close()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_vault(
    settings: Settings, clock: Clock | None = None, *, check_schema: bool = True
) -> Vault:
    """Open an initialised vault; a clear error if ``privault init`` has not been run."""
    engine = make_engine(settings)
    try:
        if check_schema:
            revision = current_revision(engine)
            if revision is None:
                raise ConfigError(N_("The vault is not initialised; run 'privault init' first."))
            if revision != head_revision():
                raise ConfigError(N_("The database schema is out of date; run 'privault upgrade'."))
        provider = key_provider(settings)
        keyring = open_keyring(provider)
        if check_schema:
            check_vault_id(engine, keyring.vault_id)
    except BaseException:
        engine.dispose()
        raise
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


# -- a vault's life: created, upgraded ---------------------------------------------------


def initialise(settings: Settings, *, actor: str) -> dict[str, Any]:
    """Create a vault: the key file (owner-only, unless keys come from the environment),
    the schema, one random ``vault_id`` in both, and the first audit entry."""
    created_key = False
    if settings.key_provider == "file" and settings.effective_key_file.exists():
        raise ConfigError(
            N_(
                "A key file already exists at %(path)s; this vault is initialised. "
                "Use 'privault upgrade' to migrate the schema."
            ),
            path=str(settings.effective_key_file),
        )
    vault_id = new_vault_id()
    if settings.key_provider == "file":
        create_key_file(settings.effective_key_file, vault_id)
        created_key = True
    engine = make_engine(settings)
    try:
        revision = migrate(engine)
        vault_id = _reconcile_vault_id(settings, engine, vault_id)
    finally:
        engine.dispose()
    _record_lifecycle(settings, "vault.init", actor, revision)
    return {
        "vault_id": vault_id,
        "home": str(settings.home),
        "database": "sqlite" if settings.is_sqlite else "postgresql",
        "key_file": str(settings.effective_key_file) if created_key else None,
        "schema_revision": revision,
    }


def upgrade_vault(settings: Settings, *, actor: str) -> dict[str, Any]:
    """Apply pending migrations; give a vault made before vault ids its id."""
    engine = make_engine(settings)
    try:
        before = current_revision(engine)
        after = migrate(engine)
        vault_id = _reconcile_vault_id(settings, engine, new_vault_id())
    finally:
        engine.dispose()
    _record_lifecycle(settings, "vault.upgrade", actor, after)
    return {"from_revision": before, "to_revision": after, "vault_id": vault_id}


def _record_lifecycle(settings: Settings, action: str, actor: str, revision: str | None) -> None:
    with open_vault(settings) as vault:
        vault.audit.record(
            AuditEntry(
                at=vault.clock.now(),
                kind=Kind.KEY,
                action=action,
                principal=actor,
                outcome=Outcome.SUCCEEDED,
                details={"revision": revision, "vault": vault.keyring.vault_id},
            )
        )


def _reconcile_vault_id(settings: Settings, engine: Engine, new_id: str) -> str:
    """One id in the key ring and the data store, recorded where it is missing (vaults
    made before ids), never two."""
    provider = key_provider(settings)
    keys_id = open_keyring(provider).vault_id
    vault_id = keys_id or stored_vault_id(engine) or new_id
    if keys_id is None and isinstance(provider, FileKeyProvider):
        vault_id = provider.record_vault_id(vault_id)
    record_vault_id(engine, vault_id)
    return vault_id
