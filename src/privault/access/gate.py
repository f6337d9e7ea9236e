"""The access gate: every read, lookup, export, hand-over, write and delete of customer
data goes through here, states a purpose, is decided by the policy engine, applies the
customers' consent as SQL, decrypts only the fields allowed, shows each in its view,
and is recorded in the audit trail *before* any data is returned (fail closed).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

from sqlalchemy import Connection, func, select

from privault.access import conditions
from privault.access.principals import PrincipalService
from privault.access.rows import Record, RowPlan, export_rows
from privault.access.views import apply_view, resolve_token
from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.consent.schemas import ConsentFacts
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.errors import N_, AccessDenied, InvalidInput, NotFound
from privault.policy import Condition, Decision, PolicyEngine, Request, compile_policy, load_policy
from privault.runtime import Vault
from privault.store.db import reads
from privault.store.tables import Customer, table_of

CUSTOMERS = table_of(Customer)
T = TypeVar("T")
# An operation as steps: it yields each audit entry and goes on once it is sent the
# entry's sequence number (committed); it returns its result.
Steps = Generator[AuditEntry, int, T]
P = ParamSpec("P")


def driven(
    steps: Callable[Concatenate[AccessGate, P], Steps[T]],
) -> Callable[Concatenate[AccessGate, P], T]:
    """The operation ``steps`` describes, run to the end in the calling thread, each
    audit entry committed (group commit) before it goes on (``AccessGate.drive``)."""

    name = steps.__name__

    @functools.wraps(steps)
    def run(gate: AccessGate, /, *args: P.args, **kwargs: P.kwargs) -> T:
        # Looked up on the gate, as ``gate.read_steps(...)`` would be (overridable).
        operation: Callable[P, Steps[T]] = getattr(gate, name)
        return gate.drive(operation(*args, **kwargs))

    run.__name__ = name.removesuffix("_steps")  # ``read`` for ``read_steps``
    run.__qualname__ = steps.__qualname__.removesuffix("_steps")
    return run


ENGINE_TTL_SECONDS: Final[float] = 5.0
EXPORT_CHUNK: Final[int] = 2000


@dataclass(frozen=True, slots=True)
class Summary:
    """What a caller learns besides the data: the decision per field, and for many
    customers how many were included and how many were left out, for which reason."""

    effect: str
    policy: str
    views: Mapping[str, str]
    denied: Mapping[str, tuple[str, ...]]
    included: int = 1
    excluded: Mapping[str, int] = field(default_factory=dict)
    audit_seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "effect": self.effect,
            "policy": self.policy,
            "views": dict(self.views),
            "denied": {k: list(v) for k, v in self.denied.items()},
            "included": self.included,
            "excluded": dict(self.excluded),
            "audit_seq": self.audit_seq,
        }


@dataclass(frozen=True, slots=True)
class ReadResult:
    record: Record
    summary: Summary
    decision: Decision


@dataclass
class ExportResult:
    """An export: the summary is final (and audited) before the first row is produced."""

    summary: Summary
    decision: Decision
    fields: tuple[str, ...]
    rows: Iterator[Record]


class AccessGate:
    def __init__(self, vault: Vault, *, policy_path: Any = None) -> None:
        self.vault = vault
        self.audit = AuditLog(vault)
        self.principals = PrincipalService(vault.engine, vault.clock)
        self.consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
        self._policy = load_policy(policy_path or vault.settings.policy_path, vault.taxonomy)
        self._engine: PolicyEngine | None = None
        self._engine_at = 0.0

    # -- the policy, with run-time principals ----------------------------------------

    @property
    def engine(self) -> PolicyEngine:
        now = time.monotonic()
        if self._engine is None or now - self._engine_at > ENGINE_TTL_SECONDS:
            policy = self.principals.effective_policy(self._policy)
            if self._engine is None or policy != self._engine.policy:
                self._engine = compile_policy(policy, self.vault.catalog, self.vault.taxonomy)
            self._engine_at = now
        return self._engine

    def refresh(self) -> None:
        self._engine = None

    def decide(self, request: Request) -> Decision:
        return self.engine.decide(request)

    # -- audit ------------------------------------------------------------------------

    def _entry(
        self,
        decision: Decision,
        outcome: Outcome,
        *,
        kind: Kind = Kind.DECISION,
        subjects: Sequence[str] = (),
        counts: Mapping[str, int] | None = None,
        reasons: Sequence[str] = (),
    ) -> AuditEntry:
        request = decision.request
        catalog = self.vault.catalog
        return AuditEntry(
            at=self.vault.clock.now(),
            kind=kind,
            action=request.action,
            principal=request.principal,
            outcome=outcome,
            purpose=request.purpose,
            recipient=request.recipient,
            fields=tuple(f for f in request.fields if f in catalog),
            categories=tuple(catalog.fields[f].category for f in request.fields if f in catalog),
            subjects=tuple(subjects),
            counts=dict(counts or {}),
            reasons=tuple(sorted(set(decision.codes) | set(reasons))),
            details={"policy": decision.policy.replace("@", ":") or "unversioned"},
        )

    def _record(self, entry: AuditEntry) -> int:
        # Group commit: concurrent requests share a transaction, none returns before
        # its own entry is durable (fail closed either way).
        return self.audit.record_grouped(entry).seq

    def _refuse_steps(
        self, /, decision: Decision, *, subjects: Sequence[str] = (), **counts: int
    ) -> Steps[None]:
        """Record the refusal, then raise ``AccessDenied``."""
        yield self._entry(decision, Outcome.DENIED, subjects=subjects, counts=counts)
        raise AccessDenied(decision)

    _refuse = driven(_refuse_steps)

    # -- one customer -----------------------------------------------------------------

    def _condition_failures(
        self, decision: Decision, facts: Callable[[], ConsentFacts]
    ) -> dict[str, str]:
        """Field -> first failing reason, for conditional fields that fail for this customer."""
        pending = [
            item
            for item in decision.fields
            if item.allowed and item.condition is not None and not item.condition.is_always
        ]
        if not pending:
            return {}
        known = facts()
        failed: dict[str, str] = {}
        for item in pending:
            assert item.condition is not None
            code = conditions.failure_from_facts(item.condition, known)
            if code is not None:
                failed[item.field] = code
        return failed

    def _facts_of(self, ref: CustomerRef) -> Callable[[], ConsentFacts]:
        return lambda: self.consent.customer_consent_state(ref, self.vault.clock.now())

    def _plaintext_of(self, ref: CustomerRef) -> Callable[[list[str]], Mapping[str, str | None]]:
        return lambda names: self.vault.customers.fetch(ref.id, names)

    def drive(self, steps: Steps[T]) -> T:
        """Run ``steps``, committing each audit entry it yields (group commit) and
        sending back its sequence number."""
        try:
            entry = next(steps)
            while True:
                entry = steps.send(self._record(entry))
        except StopIteration as done:
            result: T = done.value
            return result

    def read_steps(
        self,
        principal: str,
        purpose: str,
        customer: str,
        fields: Sequence[str],
        *,
        roles: Sequence[str] = (),
        recipient: str | None = None,
        action: str = "read",
        connection: Connection | None = None,
    ) -> Steps[ReadResult]:
        """One customer's fields, each in the view the policy allows, or
        ``AccessDenied`` -- as steps: each audit entry is yielded, and the read goes on
        only once its sequence number is sent back, i.e. once the entry is committed
        (``read`` drives it in this thread; the API can await a commit instead).
        Abandoned at a yield, nothing is decrypted or returned.

        The hot path of the API: one connection reads the customer with the wrapped key
        and sealed record and (only for conditional fields) the customer's consent
        facts -- the one lent as ``connection`` (the API's event loop keeps its own),
        else one from the pool (``store.db.reads``); the decision is audited; then only
        the fields shown are decrypted."""
        if not fields:
            raise InvalidInput(N_("Ask for at least one field."))
        request = Request(
            principal, purpose, tuple(fields), action, recipient, 1, roles=tuple(roles)
        )
        decision = self.engine.decide(request)
        customers = self.vault.customers
        source: AbstractContextManager[Connection] = (
            nullcontext(connection) if connection is not None else reads(self.vault.engine)
        )
        with source as connection:
            try:
                sealed = customers.load(connection, customer)
            except NotFound:
                yield self._entry(decision, Outcome.FAILED, reasons=("not_found",))
                raise
            if not decision.allowed:
                yield from self._refuse_steps(decision, subjects=[sealed.ref.public_id])
            failures = self._condition_failures(
                decision,
                lambda: self.consent.customer_consent_state(
                    sealed.ref, self.vault.clock.now(), connection=connection
                ),
            )
        return (
            yield from self._deliver_steps(
                decision, sealed.ref, failures, lambda names: customers.open(sealed, names)
            )
        )

    read = driven(read_steps)

    def _deliver_steps(
        self,
        decision: Decision,
        ref: CustomerRef,
        failures: Mapping[str, str],
        plaintext: Callable[[list[str]], Mapping[str, str | None]],
    ) -> Steps[ReadResult]:
        views = {
            item.field: item.view
            for item in decision.fields
            if item.allowed and item.view is not None and item.field not in failures
        }
        # A field is denied by the policy (its reasons) or, for this customer, by the
        # first condition it fails (consent, objection, restriction).
        denied = {
            item.field: (failures[item.field],)
            if item.field in failures
            else tuple(r.code for r in item.reasons)
            for item in decision.fields
            if item.field not in views
        }
        if not views:
            yield self._entry(
                decision,
                Outcome.DENIED,
                subjects=[ref.public_id],
                reasons=list(failures.values()),
            )
            raise AccessDenied(
                decision,
                N_("Access denied: %(reasons)s"),
                reasons=", ".join(sorted({c for codes in denied.values() for c in codes})),
            )
        outcome = Outcome.ALLOWED if not denied else Outcome.PARTIAL
        # Fail closed: the entry is committed before anything is decrypted or returned.
        seq = yield self._entry(
            decision, outcome, subjects=[ref.public_id], reasons=list(failures.values())
        )
        plain = plaintext(list(views))
        catalog = self.vault.catalog
        values = {
            name: None
            if plain[name] is None
            else apply_view(
                self.vault.keyring,
                views[name],
                catalog.fields[name].kind,
                ref.id,
                name,
                plain[name],  # type: ignore[arg-type]
            )
            for name in views
        }
        summary = Summary(
            effect="allow" if not denied else "partial",
            policy=decision.policy,
            views=views,
            denied=denied,
            audit_seq=seq,
        )
        return ReadResult(Record(ref.public_id, values), summary, decision)

    _deliver = driven(_deliver_steps)

    def lookup(
        self,
        principal: str,
        purpose: str,
        by_field: str,
        value: str,
        fields: Sequence[str],
        *,
        roles: Sequence[str] = (),
    ) -> list[ReadResult]:
        """Find customers by a searchable field and read them.  Looking up by a field is
        itself a use of it, so the lookup field must be allowed for the purpose too."""
        wanted = tuple(dict.fromkeys((by_field, *fields)))
        decision = self.engine.decide(
            Request(principal, purpose, wanted, "read", roles=tuple(roles))
        )
        if not decision.field(by_field).allowed:
            self._refuse(decision)
        matches = self.vault.customers.find(by_field, value)
        if not matches:
            self._record(self._entry(decision, Outcome.SUCCEEDED, counts={"matched": 0}))
            return []
        results = []
        for ref in matches[:10]:
            failures = self._condition_failures(decision, self._facts_of(ref))
            if by_field in failures:
                continue  # the customer may not be used for this purpose: not "found"
            results.append(self._deliver(decision, ref, failures, self._plaintext_of(ref)))
        return results

    def detokenize(
        self, principal: str, purpose: str, token: str, *, roles: Sequence[str] = ()
    ) -> ReadResult:
        """Turn a token back into its value, for a principal allowed to see it in plain."""
        target = resolve_token(self.vault.keyring, token)
        request = Request(principal, purpose, (target.field,), "read", roles=tuple(roles))
        decision = self.engine.decide(request)
        ref = self.vault.customers.resolve(target.customer_id)
        item = decision.field(target.field)
        if not item.allowed or item.view != "plain":
            self._record(
                self._entry(
                    decision, Outcome.DENIED, subjects=[ref.public_id], reasons=("view_not_plain",)
                )
            )
            raise AccessDenied(
                decision,
                N_("Only a principal allowed to see this field in plain may turn its token back."),
            )
        failures = self._condition_failures(decision, self._facts_of(ref))
        return self._deliver(decision, ref, failures, self._plaintext_of(ref))

    # -- many customers ---------------------------------------------------------------

    def export(
        self,
        principal: str,
        purpose: str,
        fields: Sequence[str],
        *,
        recipient: str | None = None,
        roles: Sequence[str] = (),
        approved: bool = False,
        action: str = "export",
    ) -> ExportResult:
        """Many customers at once; the consent condition runs inside the SQL query."""
        if not fields:
            raise InvalidInput(N_("Ask for at least one field."))
        base = CUSTOMERS.c.erased_at.is_(None)
        with self.vault.engine.connect() as connection:
            population = int(connection.execute(select(func.count()).where(base)).scalar_one())
        request = Request(
            principal, purpose, tuple(fields), action, recipient, population, approved, tuple(roles)
        )
        decision = self.engine.decide(request)
        if not decision.allowed:
            self._refuse(decision, population=population)
        allowed = [item for item in decision.fields if item.allowed and item.view is not None]
        at = self.vault.clock.now()
        views = {item.field: item.view for item in allowed if item.view is not None}
        plan = RowPlan.build(
            {item.field: item.condition or Condition() for item in allowed}, views, at
        )
        with self.vault.engine.connect() as connection:
            # Included, and those left out by the first reason of the widest condition.
            included, excluded = conditions.tally(connection, plan.conditions, base, at)
        denied = {
            item.field: tuple(r.code for r in item.reasons)
            for item in decision.fields
            if not item.allowed
        }
        counts = {
            "population": population,
            "included": included,
            **{f"excluded.{k}": v for k, v in excluded.items()},
        }
        seq = self._record(
            self._entry(
                decision,
                Outcome.ALLOWED if not denied else Outcome.PARTIAL,
                counts=counts,
            )
        )
        summary = Summary(
            effect="allow" if not denied and not excluded else "partial",
            policy=decision.policy,
            views=views,
            denied=denied,
            included=included,
            excluded=dict(excluded),
            audit_seq=seq,
        )
        return ExportResult(summary, decision, tuple(views), export_rows(self.vault, plan))

    # -- writes -----------------------------------------------------------------------

    def _require_write(
        self,
        principal: str,
        purpose: str,
        fields: Sequence[str],
        action: str,
        roles: Sequence[str],
        subjects: Sequence[str],
    ) -> Decision:
        decision = self.engine.decide(
            Request(principal, purpose, tuple(fields), action, roles=tuple(roles))
        )
        if not decision.allowed or any(not item.allowed for item in decision.fields):
            self._refuse(decision, subjects=subjects)
        return decision

    def create(
        self,
        principal: str,
        purpose: str,
        values: Mapping[str, str | None],
        *,
        language: str | None = None,
        roles: Sequence[str] = (),
    ) -> CustomerRef:
        decision = self._require_write(principal, purpose, list(values), "write", roles, ())
        record = self.vault.customers.prepare(values, language)
        from privault.store.db import session_scope

        with session_scope(self.vault.engine) as session:
            self.vault.customers.insert_prepared(session, [record], [purpose])
            self.audit.append(
                session.connection(),
                self._entry(
                    decision, Outcome.SUCCEEDED, kind=Kind.WRITE, subjects=[record.public_id]
                ),
            )
        return CustomerRef(record.customer_id, record.public_id, record.language)

    def write(
        self,
        principal: str,
        purpose: str,
        customer: str,
        values: Mapping[str, str | None],
        *,
        roles: Sequence[str] = (),
    ) -> None:
        ref = self.vault.customers.resolve(customer)
        decision = self._require_write(
            principal, purpose, list(values), "write", roles, [ref.public_id]
        )
        self._record(
            self._entry(decision, Outcome.ALLOWED, kind=Kind.WRITE, subjects=[ref.public_id])
        )
        self.vault.customers.update(ref.id, values)

    def delete(
        self, principal: str, purpose: str, customer: str, *, roles: Sequence[str] = ()
    ) -> None:
        """Erase a customer by destroying its data key (crypto-shredding)."""
        ref = self.vault.customers.resolve(customer)
        decision = self._require_write(
            principal, purpose, list(self.vault.catalog.names), "delete", roles, [ref.public_id]
        )
        self._record(
            self._entry(decision, Outcome.ALLOWED, kind=Kind.WRITE, subjects=[ref.public_id])
        )
        self.vault.customers.destroy_key(ref.id)
