"""The incident register: reporting, automatic raising, the workflow, the 72-hour clock.

Every change is one transaction that also appends an audit entry (``Kind.INCIDENT``,
fail closed) and a line to the incident's append-only timeline.  Free text (the
description, notes, reasons) is scrubbed by the scanner's recognisers before it is
stored, so an address or a card number pasted into a report is kept as
``[EMAIL_ADDRESS]``.  Notifications are sent after the commit; their outcomes are
written to the timeline (a failure to notify is visible in the incident).
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.calendar import incident_deadline, working_calendar
from privault.catalog.fields import FieldCatalog
from privault.clock import Clock
from privault.crypto import Keyring
from privault.customers.service import CustomerService
from privault.errors import N_, Conflict, InvalidInput, NotFound
from privault.i18n import translator
from privault.incidents.models import EVENTS, INCIDENTS, SUBJECTS
from privault.incidents.notify import OPENED, OVERDUE, WARNING, Delivery, NotifierLike
from privault.incidents.schemas import ClockState, EventView, IncidentView
from privault.incidents.workflow import (
    FINAL,
    Nature,
    Risk,
    Severity,
    Source,
    Status,
    check_transition,
    nature_of,
)
from privault.policy import Policy
from privault.scan import Scanner, default_registry
from privault.scan.formats.base import mask
from privault.settings import Settings
from privault.text import free_text

SYSTEM_ACTOR: Final = "privault"
ANONYMOUS: Final = "anonymous"
REPORTER_CONTEXT: Final = "incidents.reporter.v1"
MAX_TEXT: Final[int] = 5000
_NAME = re.compile(r"[^\W_][\w.:@/+-]{0,127}")
_KEY = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*")
FUTURE_SLACK: Final = timedelta(minutes=5)
# Reports of things noticed before this are typos (and 0001-01-01+01:00 is no instant
# a database can store).
EARLIEST_NOTICED: Final = datetime(1970, 1, 1, tzinfo=UTC)

N_REPORTED = N_("Incident reported.")
N_DETECTED = N_("Incident raised automatically.")
N_DETECTED_AGAIN = N_("Detected again.")
N_STATUS = N_("Status changed.")
N_ASSIGNED = N_("Owner assigned.")
N_ASSESSED = N_("Assessment updated.")
N_NOTIFICATION_SENT = N_("Notification delivered.")
N_NOTIFICATION_FAILED = N_("Notification could not be delivered.")
N_WARNING = N_("Deadline warning sent.")
N_OVERDUE = N_("The deadline to notify the authority has passed.")
N_CUSTOMERS_NOTIFIED = N_("Customers notified.")
N_AUTHORITY_DRAFT = N_("Authority notification drafted.")
N_AWARE = N_("Awareness time recorded: the 72-hour clock runs from it.")
N_CONVERTED = N_("Converted into a suspected breach.")
N_REVIEW_OVERDUE = N_("The review of this prevented attempt is overdue.")
N_INVESTIGATION_OVERDUE = N_("The investigation time of this suspected breach has passed.")
N_NO_BREACH = N_(
    "Incident %(id)s is a prevented attempt, not a breach: nothing is notified for it. "
    "If data may have left another way, convert it into a suspected breach first."
)


@cache
def _scrubber(regions: tuple[str, ...]) -> Scanner:
    return Scanner(default_registry(regions))


def scrub(text: str, regions: Sequence[str] = ("CZ", "PK", "GB", "US", "DE")) -> str:
    """``text`` with every piece of personal data the recognisers know replaced by its
    type (``[EMAIL_ADDRESS]``); incidents describe what happened, not whose data."""
    text = free_text(text)[:MAX_TEXT]
    if not text:
        return text
    return mask(text, _scrubber(tuple(regions)).analyze(text))


def _name(value: str, what: str) -> str:
    value = value.strip()
    if _NAME.fullmatch(value) is None:
        raise InvalidInput(
            N_("The %(what)s must be a principal's name (letters, digits, . : @ / + -)."),
            what=what,
        )
    return value


def _keys(values: Iterable[str], what: str) -> tuple[str, ...]:
    found = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        if _KEY.fullmatch(value) is None or len(value) > 128:
            raise InvalidInput(
                N_("'%(value)s' is not a valid %(what)s key."), value=value[:40], what=what
            )
        found.append(value)
    return tuple(dict.fromkeys(found))


def _systems(values: Iterable[str]) -> tuple[str, ...]:
    found = []
    for value in values:
        value = value.strip()[:100]
        if value:
            found.append(scrub(value))
    return tuple(dict.fromkeys(found))


def _count(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise InvalidInput(N_("The %(what)s must be a whole number, 0 or more."), what=what)
    return value


class IncidentService:
    """The incidents of one vault.  ``notifier`` may be None (nothing is sent)."""

    def __init__(
        self,
        *,
        engine: Engine,
        keyring: Keyring,
        clock: Clock,
        settings: Settings,
        catalog: FieldCatalog,
        customers: CustomerService,
        audit: AuditLog,
        policy: Callable[[], Policy],
        notifier: NotifierLike | None = None,
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.clock = clock
        self.settings = settings
        self.catalog = catalog
        self.customers = customers
        self.audit = audit
        # The effective policy (file + run-time principals), asked for when needed.
        self.policy = policy
        self.notifier = notifier

    # -- helpers ----------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now()

    def _scrub(self, text: str | None) -> str:
        return scrub(text or "", self.settings.phone_regions)

    def deadline_of(self, aware_at: datetime) -> datetime:
        return incident_deadline(aware_at, self.settings.incident_deadline_hours)

    def review_due_of(self, reported_at: datetime) -> datetime:
        """A prevented attempt's review deadline: working days, counted in the
        jurisdiction's calendar (unlike the 72 hours, these roll)."""
        calendar = working_calendar(self.settings.incident_jurisdiction)
        return calendar.working_days_deadline(
            reported_at, self.settings.incident_review_working_days
        )

    def investigation_due_of(self, suspected_at: datetime) -> datetime:
        return suspected_at + timedelta(hours=self.settings.incident_investigation_hours)

    def _clock(self, row: Any) -> ClockState:
        deadline = self.deadline_of(row.aware_at)
        left = int((deadline - self._now()).total_seconds())
        running = (
            nature_of(Status(row.status)) is Nature.SUSPECTED_BREACH
            and Status(row.status) not in FINAL
            and row.authority_notified_at is None
            and Risk(row.risk) is not Risk.NONE
        )
        return ClockState(deadline, left, running, running and left < 0)

    def _view(self, connection: Connection, row: Any, reveal: bool = False) -> IncidentView:
        known = connection.execute(
            select(SUBJECTS.c.customer_id).where(SUBJECTS.c.incident_id == row.id)
        ).all()
        reporter = row.reporter
        if row.anonymous:
            reporter = None
            if reveal and row.reporter_sealed is not None:
                reporter = self.keyring.open_reference(
                    f"{REPORTER_CONTEXT}:{row.id}", bytes(row.reporter_sealed)
                ).decode("utf-8")
        return IncidentView(
            id=row.id,
            source=Source(row.source),
            status=Status(row.status),
            severity=Severity(row.severity),
            risk=Risk(row.risk),
            title=row.title,
            description=row.description,
            categories=tuple(json.loads(row.categories)),
            systems=tuple(json.loads(row.systems)),
            estimated_customers=row.estimated_customers,
            estimated_records=row.estimated_records,
            known_customers=len(known),
            consequences=row.consequences,
            measures=row.measures,
            reporter=reporter,
            anonymous=bool(row.anonymous),
            owner=row.owner,
            aware_at=row.aware_at,
            reported_at=row.reported_at,
            authority_notified_at=row.authority_notified_at,
            customers_notified_at=row.customers_notified_at,
            late_reason=row.late_reason,
            dismissed_reason=row.dismissed_reason,
            closed_at=row.closed_at,
            updated_at=row.updated_at,
            clock=self._clock(row),
            nature=nature_of(Status(row.status)),
            suspected_at=row.suspected_at,
            review_due=(
                self.review_due_of(row.reported_at)
                if nature_of(Status(row.status)) is Nature.PREVENTED_ATTEMPT
                else None
            ),
            investigation_due=(
                self.investigation_due_of(row.suspected_at)
                if row.suspected_at is not None
                else None
            ),
        )

    def _row(self, connection: Connection, incident_id: str) -> Any:
        row = connection.execute(select(INCIDENTS).where(INCIDENTS.c.id == incident_id)).first()
        if row is None:
            raise NotFound(N_("There is no incident %(id)s."), id=incident_id[:40])
        return row

    def _event(
        self,
        connection: Connection,
        incident_id: str,
        kind: str,
        message: str,
        actor: str,
        data: Mapping[str, Any] | None = None,
        occurrence: str | None = None,
    ) -> None:
        connection.execute(
            insert(EVENTS).values(
                incident_id=incident_id,
                at=self._now(),
                actor=actor,
                kind=kind,
                message=message,
                data=json.dumps(dict(data or {}), sort_keys=True, default=str),
                occurrence=occurrence,
            )
        )

    def _audit(
        self,
        connection: Connection,
        action: str,
        actor: str,
        incident_id: str,
        *,
        counts: Mapping[str, int] | None = None,
        **details: str | int | bool | None,
    ) -> None:
        self.audit.append(
            connection,
            AuditEntry(
                at=self._now(),
                kind=Kind.INCIDENT,
                action=action,
                principal=actor,
                outcome=Outcome.SUCCEEDED,
                counts=dict(counts or {}),
                details={"incident": incident_id, **details},
            ),
        )

    def _touch(self, connection: Connection, incident_id: str, **values: Any) -> None:
        connection.execute(
            update(INCIDENTS)
            .where(INCIDENTS.c.id == incident_id)
            .values(updated_at=self._now(), **values)
        )

    # -- reporting --------------------------------------------------------------------

    def report(
        self,
        *,
        reporter: str,
        description: str,
        title: str | None = None,
        noticed_at: datetime | None = None,
        categories: Iterable[str] = (),
        systems: Iterable[str] = (),
        estimated_customers: int | None = None,
        estimated_records: int | None = None,
        anonymous: bool = False,
        notify: bool = True,
    ) -> IncidentView:
        """A person reports a (suspected) mishandling.  Anyone may: no access to
        customer data is needed.  ``noticed_at`` (when they noticed) starts the clock."""
        reporter = _name(reporter, "reporter")
        now = self._now()
        if noticed_at is not None:
            if noticed_at.tzinfo is None:
                raise InvalidInput(N_("Give the time with a time zone (UTC is fine)."))
            if noticed_at > now + FUTURE_SLACK:
                raise InvalidInput(N_("The time it was noticed cannot be in the future."))
            if noticed_at < EARLIEST_NOTICED:
                raise InvalidInput(N_("The time it was noticed is too far in the past."))
        aware_at = min(noticed_at, now) if noticed_at is not None else now
        text = self._scrub(description)
        if not text:
            raise InvalidInput(N_("Describe what happened."))
        heading = self._scrub(title)[:200] if title else text.splitlines()[0][:120]
        incident_id = "inc_" + secrets.token_hex(8)
        sealed = (
            self.keyring.seal_reference(
                f"{REPORTER_CONTEXT}:{incident_id}", reporter.encode("utf-8")
            )
            if anonymous
            else None
        )
        actor = ANONYMOUS if anonymous else reporter
        customers = _count(estimated_customers, "estimated number of customers")
        with self.engine.begin() as connection:
            connection.execute(
                insert(INCIDENTS).values(
                    id=incident_id,
                    source=Source.REPORT.value,
                    dedup_key=None,
                    open_key=None,
                    status=Status.REPORTED.value,
                    severity=Severity.MEDIUM.value,
                    risk=Risk.UNASSESSED.value,
                    title=heading,
                    description=text,
                    categories=json.dumps(_keys(categories, "data category")),
                    systems=json.dumps(_systems(systems)),
                    estimated_customers=customers,
                    estimated_records=_count(estimated_records, "estimated number of records"),
                    consequences="",
                    measures="",
                    reporter=None if anonymous else reporter,
                    reporter_sealed=sealed,
                    anonymous=anonymous,
                    owner=None,
                    aware_at=aware_at,
                    reported_at=now,
                    suspected_at=now,
                    updated_at=now,
                )
            )
            self._event(
                connection,
                incident_id,
                "reported",
                N_REPORTED,
                actor,
                {"anonymous": anonymous, "status": Status.REPORTED.value},
            )
            self._audit(
                connection,
                "incident.report",
                actor,
                incident_id,
                counts={"customers": customers or 0},
                anonymous=anonymous,
            )
        view = self.get(incident_id)
        if notify:
            self.notify(OPENED, view)
        return view

    def raise_detected(
        self,
        *,
        source: Source,
        dedup_key: str,
        title: str,
        description: str,
        severity: Severity = Severity.HIGH,
        categories: Iterable[str] = (),
        systems: Iterable[str] = (),
        estimated_customers: int | None = None,
        estimated_records: int | None = None,
        customer_ids: Iterable[str] = (),
        occurrence: str | None = None,
        data: Mapping[str, Any] | None = None,
        notify: bool = True,
        prevented: bool = False,
    ) -> tuple[IncidentView, bool] | None:
        """Open an incident for an automatic cause, or add to the open one for the same
        ``dedup_key``.  An ``occurrence`` seen before (in any incident) adds nothing and
        returns None.  Returns the incident and whether it was opened now.

        ``prevented``: the cause was stopped (a blocked transfer), so the incident opens
        as a prevented attempt -- no 72-hour clock, a review deadline instead."""
        for _attempt in range(3):
            try:
                result = self._raise_once(
                    source,
                    dedup_key,
                    title,
                    description.strip()[:MAX_TEXT],
                    severity,
                    _keys(categories, "data category"),
                    _systems(systems),
                    estimated_customers,
                    estimated_records,
                    tuple(customer_ids),
                    occurrence,
                    dict(data or {}),
                    prevented,
                )
            except IntegrityError:
                continue  # another worker opened it meanwhile: add to theirs
            if result is None:
                return None
            view = self.get(result[0])
            if result[1] and notify:
                self.notify(OPENED, view)
            return view, result[1]
        raise Conflict(N_("The incident was changed concurrently; try again."))

    def _raise_once(
        self,
        source: Source,
        dedup_key: str,
        title: str,
        description: str,
        severity: Severity,
        categories: tuple[str, ...],
        systems: tuple[str, ...],
        customers: int | None,
        records: int | None,
        customer_ids: tuple[str, ...],
        occurrence: str | None,
        data: dict[str, Any],
        prevented: bool = False,
    ) -> tuple[str, bool] | None:
        now = self._now()
        with self.engine.begin() as connection:
            if (
                occurrence is not None
                and connection.execute(
                    select(EVENTS.c.id).where(EVENTS.c.occurrence == occurrence).limit(1)
                ).first()
                is not None
            ):
                return None
            row = connection.execute(
                select(INCIDENTS).where(INCIDENTS.c.open_key == dedup_key)
            ).first()
            created = row is None
            if row is None:
                incident_id = "inc_" + secrets.token_hex(8)
                connection.execute(
                    insert(INCIDENTS).values(
                        id=incident_id,
                        source=source.value,
                        dedup_key=dedup_key,
                        open_key=dedup_key,
                        status=(Status.PREVENTED if prevented else Status.REPORTED).value,
                        severity=severity.value,
                        risk=Risk.UNASSESSED.value,
                        title=title,
                        description=description,
                        categories=json.dumps(categories),
                        systems=json.dumps(systems),
                        estimated_customers=customers,
                        estimated_records=records,
                        consequences="",
                        measures="",
                        reporter=SYSTEM_ACTOR,
                        reporter_sealed=None,
                        anonymous=False,
                        owner=None,
                        aware_at=now,
                        reported_at=now,
                        suspected_at=None if prevented else now,
                        updated_at=now,
                    )
                )
                kind, message = "detected", N_DETECTED
            else:
                incident_id = row.id
                merged_categories = tuple(dict.fromkeys((*json.loads(row.categories), *categories)))
                merged_systems = tuple(dict.fromkeys((*json.loads(row.systems), *systems)))
                self._touch(
                    connection,
                    incident_id,
                    categories=json.dumps(merged_categories),
                    systems=json.dumps(merged_systems),
                    estimated_customers=_max(row.estimated_customers, customers),
                    estimated_records=_max(row.estimated_records, records),
                )
                kind, message = "detected_again", N_DETECTED_AGAIN
            if customer_ids:
                known = {
                    r[0]
                    for r in connection.execute(
                        select(SUBJECTS.c.customer_id).where(SUBJECTS.c.incident_id == incident_id)
                    )
                }
                fresh = sorted(set(customer_ids) - known)
                if fresh:
                    connection.execute(
                        insert(SUBJECTS),
                        [{"incident_id": incident_id, "customer_id": c} for c in fresh],
                    )
            self._event(
                connection,
                incident_id,
                kind,
                message,
                SYSTEM_ACTOR,
                {"source": source.value, **data},
                occurrence,
            )
            self._audit(
                connection,
                "incident.detect",
                SYSTEM_ACTOR,
                incident_id,
                counts={"customers": customers or 0},
                source=source.value,
                opened=created,
            )
        return incident_id, created

    # -- reading ----------------------------------------------------------------------

    def get(self, incident_id: str, *, reveal_reporter: bool = False) -> IncidentView:
        with self.engine.connect() as connection:
            return self._view(connection, self._row(connection, incident_id), reveal_reporter)

    def reveal_reporter(self, incident_id: str, *, actor: str) -> IncidentView:
        """The incident with an anonymous reporter's name, for compliance; audited.
        The caller (router, CLI) checks that ``actor`` is in the compliance role."""
        actor = _name(actor, "actor")
        with self.engine.begin() as connection:
            row = self._row(connection, incident_id)
            self._audit(connection, "incident.reveal_reporter", actor, incident_id)
            return self._view(connection, row, True)

    def find(
        self, *, status: Status | None = None, overdue: bool = False, running: bool = False
    ) -> list[IncidentView]:
        query = select(INCIDENTS).order_by(INCIDENTS.c.reported_at, INCIDENTS.c.id)
        if status is not None:
            query = query.where(INCIDENTS.c.status == status.value)
        with self.engine.connect() as connection:
            views = [self._view(connection, r) for r in connection.execute(query)]
        if overdue:
            views = [v for v in views if v.clock.overdue]
        if running:
            views = [v for v in views if v.clock.running]
        return views

    def overdue(self) -> list[IncidentView]:
        """Incidents whose authority notification is past its deadline and not done."""
        return self.find(overdue=True)

    def timeline(self, incident_id: str) -> list[EventView]:
        with self.engine.connect() as connection:
            self._row(connection, incident_id)
            rows = connection.execute(
                select(EVENTS).where(EVENTS.c.incident_id == incident_id).order_by(EVENTS.c.id)
            ).all()
        return [EventView(r.id, r.at, r.actor, r.kind, r.message, json.loads(r.data)) for r in rows]

    # -- the workflow -----------------------------------------------------------------

    def assign(self, incident_id: str, owner: str, *, actor: str) -> IncidentView:
        owner, actor = _name(owner, "owner"), _name(actor, "actor")
        with self.engine.begin() as connection:
            row = self._row(connection, incident_id)
            if Status(row.status) in FINAL:
                raise InvalidInput(
                    N_("The incident is %(status)s; it cannot be changed."), status=row.status
                )
            self._touch(connection, incident_id, owner=owner)
            self._event(
                connection,
                incident_id,
                "assigned",
                N_ASSIGNED,
                actor,
                {"owner": owner, "previous": row.owner},
            )
            self._audit(connection, "incident.assign", actor, incident_id)
        return self.get(incident_id)

    def assess(
        self,
        incident_id: str,
        *,
        actor: str,
        risk: Risk | None = None,
        severity: Severity | None = None,
        categories: Iterable[str] | None = None,
        systems: Iterable[str] | None = None,
        estimated_customers: int | None = None,
        estimated_records: int | None = None,
        consequences: str | None = None,
        measures: str | None = None,
    ) -> IncidentView:
        """Record the assessment (Art. 33(3) contents, risk, severity); each change is a
        timeline line naming the fields changed."""
        actor = _name(actor, "actor")
        values: dict[str, Any] = {}
        if risk is not None:
            values["risk"] = Risk(risk).value
        if severity is not None:
            values["severity"] = Severity(severity).value
        if categories is not None:
            values["categories"] = json.dumps(_keys(categories, "data category"))
        if systems is not None:
            values["systems"] = json.dumps(_systems(systems))
        if estimated_customers is not None:
            values["estimated_customers"] = _count(estimated_customers, "estimated customers")
        if estimated_records is not None:
            values["estimated_records"] = _count(estimated_records, "estimated records")
        if consequences is not None:
            values["consequences"] = self._scrub(consequences)
        if measures is not None:
            values["measures"] = self._scrub(measures)
        if not values:
            raise InvalidInput(N_("Nothing to change."))
        with self.engine.begin() as connection:
            row = self._row(connection, incident_id)
            if Status(row.status) in FINAL:
                raise InvalidInput(
                    N_("The incident is %(status)s; it cannot be changed."), status=row.status
                )
            self._touch(connection, incident_id, **values)
            data = {"changed": sorted(values)}
            if "risk" in values:
                data["risk"] = values["risk"]
            if "severity" in values:
                data["severity"] = values["severity"]
            self._event(connection, incident_id, "assessed", N_ASSESSED, actor, data)
            self._audit(
                connection,
                "incident.assess",
                actor,
                incident_id,
                risk=values.get("risk"),
                severity=values.get("severity"),
            )
        return self.get(incident_id)

    def transition(
        self,
        incident_id: str,
        target: Status,
        *,
        actor: str,
        reason: str | None = None,
        aware_at: datetime | None = None,
    ) -> IncidentView:
        """Move along the transition table, with the guards the law adds:

        - ``prevented -> reported`` converts a prevented attempt into a suspected
          breach: the investigation timer starts now and the Art. 33(1) clock at
          ``aware_at`` (when the officer became aware; now if not given);
        - ``reviewed`` (a prevented attempt needs nothing more) needs a reason;

        - ``dismissed`` needs a reason;
        - ``notified`` (the authority was told) needs a risk assessed as ``risk`` or
          ``high``, and after the deadline a reason for the delay (Art. 33(1));
        - ``closed`` straight from ``contained`` needs a risk assessed as ``none``;
          from ``notified`` with a high risk, the customers must have been told
          (Art. 34) or a reason given why not (Art. 34(3)).
        """
        actor = _name(actor, "actor")
        target = Status(target)
        text = self._scrub(reason) or None
        now = self._now()
        if aware_at is not None:
            aware_at = self._awareness(aware_at, now)
        with self.engine.begin() as connection:
            row = self._row(connection, incident_id)
            current = Status(row.status)
            check_transition(current, target)
            if aware_at is not None and not (
                current is Status.PREVENTED and target is Status.REPORTED
            ):
                raise InvalidInput(
                    N_(
                        "An awareness time goes with converting a prevented attempt; "
                        "record it for a breach with 'incident aware'."
                    )
                )
            risk = Risk(row.risk)
            values: dict[str, Any] = {"status": target.value}
            data: dict[str, Any] = {"from": current.value, "to": target.value}
            kind, message = "status", N_STATUS
            if current is Status.PREVENTED and target is Status.REPORTED:
                values["suspected_at"] = now
                values["aware_at"] = aware_at if aware_at is not None else now
                values["severity"] = _max_severity(Severity(row.severity), Severity.MEDIUM)
                data["aware_at"] = values["aware_at"].isoformat()
                kind, message = "converted", N_CONVERTED
            elif target is Status.REVIEWED:
                if text is None:
                    raise InvalidInput(
                        N_("Closing the review of a prevented attempt needs its finding.")
                    )
            elif target is Status.DISMISSED:
                if text is None:
                    raise InvalidInput(N_("Dismissing an incident needs a reason."))
                values["dismissed_reason"] = text
            elif target is Status.NOTIFIED:
                if risk not in (Risk.RISK, Risk.HIGH):
                    raise InvalidInput(
                        N_(
                            "Assess the risk first: the authority is notified when the risk "
                            "is 'risk' or 'high'; with no risk, contain and close it."
                        )
                    )
                deadline = self.deadline_of(row.aware_at)
                late = now > deadline
                if late and text is None:
                    raise InvalidInput(
                        N_(
                            "The notification is %(hours)s hours late; give the reasons for "
                            "the delay (GDPR Art. 33(1))."
                        ),
                        hours=int((now - deadline).total_seconds() // 3600),
                    )
                values["authority_notified_at"] = now
                values["late_reason"] = text if late else None
                data["late"] = late
            elif target is Status.CLOSED:
                if current is Status.CONTAINED and risk is not Risk.NONE:
                    raise InvalidInput(
                        N_(
                            "Only an incident assessed as no risk may close without notifying "
                            "the authority; assess it, or notify the authority first."
                        )
                    )
                if (
                    current is Status.NOTIFIED
                    and risk is Risk.HIGH
                    and row.customers_notified_at is None
                    and text is None
                ):
                    raise InvalidInput(
                        N_(
                            "The risk is high, so the customers must be told (GDPR Art. 34); "
                            "send the notice first, or give the reason it is not needed."
                        )
                    )
            if target in FINAL:
                values["closed_at"] = now
                values["open_key"] = None
            if text is not None:
                data["reason"] = True
            result = connection.execute(
                update(INCIDENTS)
                .where(INCIDENTS.c.id == incident_id, INCIDENTS.c.status == current.value)
                .values(updated_at=now, **values)
            )
            if result.rowcount != 1:
                raise Conflict(N_("The incident was changed concurrently; try again."))
            self._event(connection, incident_id, kind, text or message, actor, data)
            self._audit(
                connection,
                "incident.convert" if kind == "converted" else "incident.transition",
                actor,
                incident_id,
                status=target.value,
            )
        return self.get(incident_id)

    def _awareness(self, aware_at: datetime, now: datetime) -> datetime:
        if aware_at.tzinfo is None:
            raise InvalidInput(N_("Give the time with a time zone (UTC is fine)."))
        if aware_at > now + FUTURE_SLACK:
            raise InvalidInput(N_("The time of awareness cannot be in the future."))
        if aware_at < EARLIEST_NOTICED:
            raise InvalidInput(N_("The time it was noticed is too far in the past."))
        return min(aware_at, now)

    def record_awareness(self, incident_id: str, aware_at: datetime, *, actor: str) -> IncidentView:
        """The officer records when the controller became aware of the breach (GDPR
        Art. 33(1)): the 72-hour clock runs from it, through nights, weekends and
        holidays.  Only for a suspected breach still open; audited."""
        actor = _name(actor, "actor")
        now = self._now()
        aware_at = self._awareness(aware_at, now)
        with self.engine.begin() as connection:
            row = self._row(connection, incident_id)
            status = Status(row.status)
            if nature_of(status) is Nature.PREVENTED_ATTEMPT:
                raise InvalidInput(N_NO_BREACH, id=incident_id)
            if status in FINAL or row.authority_notified_at is not None:
                raise InvalidInput(
                    N_("The incident is %(status)s; it cannot be changed."), status=row.status
                )
            self._touch(connection, incident_id, aware_at=aware_at)
            self._event(
                connection,
                incident_id,
                "aware",
                N_AWARE,
                actor,
                {"aware_at": aware_at.isoformat(), "previous": row.aware_at.isoformat()},
            )
            self._audit(connection, "incident.aware", actor, incident_id)
        return self.get(incident_id)

    def record_not_raised(self, actor: str, source: Source, reason: str, **counts: int) -> None:
        """Audit a cause that opens no incident (an operator's unreadable path; a
        compliance scan with ``--no-incident``): the record says who and why."""
        self._record_run(
            actor, "incident.not_raised", counts, {"source": source.value, "reason": reason}
        )

    def record_check(self, actor: str, counts: Mapping[str, int]) -> None:
        """Audit a run of the detectors (``incident check``): who ran it and what it
        found, in numbers -- also when it found nothing."""
        self._record_run(actor, "incident.check", counts, {})

    def _record_run(
        self,
        actor: str,
        action: str,
        counts: Mapping[str, int],
        details: Mapping[str, str],
    ) -> None:
        actor = _name(actor, "actor")
        with self.engine.begin() as connection:
            self.audit.append(
                connection,
                AuditEntry(
                    at=self._now(),
                    kind=Kind.INCIDENT,
                    action=action,
                    principal=actor,
                    outcome=Outcome.SUCCEEDED,
                    counts=dict(counts),
                    details=dict(details),
                ),
            )

    def require_breach(self, view: IncidentView) -> None:
        """``InvalidInput`` for a prevented attempt: no Art. 33 or 34 notice for it."""
        if view.nature is Nature.PREVENTED_ATTEMPT:
            raise InvalidInput(N_NO_BREACH, id=view.id)

    def note(self, incident_id: str, text: str, *, actor: str) -> EventView:
        """Add a line to the timeline (notes are scrubbed, never edited)."""
        actor = _name(actor, "actor")
        clean = self._scrub(text)
        if not clean:
            raise InvalidInput(N_("The note is empty."))
        with self.engine.begin() as connection:
            self._row(connection, incident_id)
            self._event(connection, incident_id, "note", clean, actor)
            self._audit(connection, "incident.note", actor, incident_id)
        return self.timeline(incident_id)[-1]

    def record(
        self,
        incident_id: str,
        kind: str,
        message: str,
        *,
        actor: str = SYSTEM_ACTOR,
        data: Mapping[str, Any] | None = None,
        occurrence: str | None = None,
        audit: bool = False,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """A timeline line from another part of the slice (notices, notifications)."""
        with self.engine.begin() as connection:
            self._row(connection, incident_id)
            if values:
                self._touch(connection, incident_id, **dict(values))
            self._event(connection, incident_id, kind, message, actor, data, occurrence)
            if audit:
                self._audit(connection, f"incident.{kind.replace('_', '-')}", actor, incident_id)

    def seen(self, occurrence: str) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(EVENTS.c.id).where(EVENTS.c.occurrence == occurrence).limit(1)
                ).first()
                is not None
            )

    def customer_ids(self, incident_id: str) -> list[str]:
        with self.engine.connect() as connection:
            self._row(connection, incident_id)
            return [
                r[0]
                for r in connection.execute(
                    select(SUBJECTS.c.customer_id)
                    .where(SUBJECTS.c.incident_id == incident_id)
                    .order_by(SUBJECTS.c.customer_id)
                )
            ]

    # -- notifications and the clock -------------------------------------------------

    def notify(
        self, event: str, view: IncidentView, extra: Mapping[str, Any] | None = None
    ) -> list[Delivery]:
        """Send ``event`` to compliance; write every outcome into the timeline."""
        if self.notifier is None:
            return []
        deliveries = self.notifier.send(event, view, dict(extra or {}))
        for delivery in deliveries:
            self.record(
                view.id,
                "notification_sent" if delivery.ok else "notification_failed",
                N_NOTIFICATION_SENT if delivery.ok else N_NOTIFICATION_FAILED,
                data={"event": event, **delivery.as_json()},
            )
        return deliveries

    def check_deadlines(self) -> list[tuple[IncidentView, str, int]]:
        """Warn at each configured threshold (hours left) and once when overdue; each
        warning is sent once per incident.  Returns (incident, event, hours) sent."""
        thresholds = sorted({h for h in self.settings.incident_warning_hours if h > 0})
        sent: list[tuple[IncidentView, str, int]] = []
        for view in self.find(running=True):
            left = view.clock.seconds_left
            if left < 0:
                event, hours, occurrence = OVERDUE, 0, f"{view.id}:deadline:overdue"
                kind, message = "deadline_overdue", N_OVERDUE
            else:
                crossed = [h for h in thresholds if left <= h * 3600]
                if not crossed:
                    continue
                hours = crossed[0]
                event, occurrence = WARNING, f"{view.id}:deadline:{hours}h"
                kind, message = "deadline_warning", N_WARNING
            if self.seen(occurrence):
                continue
            self.record(
                view.id,
                kind,
                message,
                data={"hours": hours, "seconds_left": left},
                occurrence=occurrence,
            )
            self.notify(event, view, {"hours": hours})
            sent.append((view, event, hours))
        self._check_timers()
        return sent

    def _check_timers(self) -> None:
        """A timeline line, once, when a prevented attempt's review or a suspected
        breach's investigation runs past its time (the list shows both)."""
        now = self._now()
        for view in self.find():
            if view.status in FINAL:
                continue
            if view.review_due is not None and now > view.review_due:
                kind, message, due = "review_overdue", N_REVIEW_OVERDUE, view.review_due
            elif (
                view.investigation_due is not None
                and view.status is Status.REPORTED
                and now > view.investigation_due
            ):
                kind, message, due = (
                    "investigation_overdue",
                    N_INVESTIGATION_OVERDUE,
                    view.investigation_due,
                )
            else:
                continue
            occurrence = f"{view.id}:{kind}"
            if not self.seen(occurrence):
                self.record(
                    view.id, kind, message, data={"due": due.isoformat()}, occurrence=occurrence
                )

    # -- the register (Art. 33(5)) -----------------------------------------------------

    REGISTER_COLUMNS: Final = (
        "id",
        "nature",
        "source",
        "status",
        "severity",
        "risk",
        "title",
        "description",
        "categories",
        "systems",
        "estimated_customers",
        "estimated_records",
        "known_customers",
        "consequences",
        "measures",
        "reporter",
        "anonymous",
        "owner",
        "aware_at",
        "reported_at",
        "suspected_at",
        "investigation_due",
        "review_due",
        "deadline",
        "authority_notified_at",
        "late_reason",
        "customers_notified_at",
        "dismissed_reason",
        "closed_at",
    )

    def register(self, *, prevented: bool = False) -> list[dict[str, Any]]:
        """Art. 33(5): every breach, notified or not, dismissed included, oldest first.
        With ``prevented``, the prevented attempts instead -- kept apart, as they are
        no breaches."""
        wanted = Nature.PREVENTED_ATTEMPT if prevented else Nature.SUSPECTED_BREACH
        rows = []
        for view in self.find():
            if view.nature is not wanted:
                continue
            data = view.as_json()
            data["deadline"] = view.clock.deadline.isoformat()
            data["categories"] = " ".join(view.categories)
            data["systems"] = "; ".join(view.systems)
            rows.append({k: data.get(k) for k in self.REGISTER_COLUMNS})
        return rows

    def register_csv(self, *, prevented: bool = False) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(self.REGISTER_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in self.register(prevented=prevented):
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
        return buffer.getvalue()

    def title(self, view: IncidentView, lang: str) -> str:
        return translator(lang).gettext(view.title)


_SEVERITY_ORDER: Final = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def _max_severity(a: Severity, b: Severity) -> str:
    return max(a, b, key=_SEVERITY_ORDER.index).value


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) in free text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
