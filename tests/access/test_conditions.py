"""The SQL filter and the single-customer evaluation of a policy condition agree, for any
consent history (grants, withdrawals, objections, restrictions) -- on both databases."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from privault.access import conditions
from privault.audit import AuditLog
from privault.consent.schemas import NoticeDraft
from privault.consent.service import ConsentService
from privault.policy import Condition
from privault.runtime import Vault

PURPOSES = ["marketing", "marketing.communications", "marketing.communications.email"]
TEXT = {"en": "Notice.", "cs": "Oznámení.", "ur": "اطلاع۔"}

events = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["grant", "withdraw"]), st.sampled_from(PURPOSES)),
        st.tuples(
            st.sampled_from(["share", "unshare"]), st.sampled_from(["parcelfast", "brightmail"])
        ),
        st.tuples(st.just("object"), st.sampled_from([*PURPOSES, "essential.service"])),
        st.tuples(st.just("restrict"), st.just("")),
    ),
    max_size=6,
)
condition_strategy = st.builds(
    Condition,
    consent_to=st.sampled_from([None, None, None, *PURPOSES]),
    share_with=st.sampled_from([(), (), (), ("parcelfast",)]),
    not_objected=st.one_of(st.none(), st.sampled_from([*PURPOSES, "essential.service"])),
    not_restricted=st.booleans(),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=events, condition=condition_strategy)
def test_sql_and_single_customer_evaluation_agree(
    vault: Vault, history: list[tuple[str, str]], condition: Condition
) -> None:
    consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
    notices = {}
    for purpose in PURPOSES:
        notices[purpose] = consent.add_notice(
            NoticeDraft(key=purpose.replace(".", "-"), purposes=(purpose,), title=TEXT, text=TEXT),
            created_by="dpo",
        )
    for recipient in ("parcelfast", "brightmail"):
        notices[recipient] = consent.add_notice(
            NoticeDraft(
                key=f"share-{recipient}",
                purposes=("third_party_sharing",),
                recipient=recipient,
                title=TEXT,
                text=TEXT,
            ),
            created_by="dpo",
        )
    ref = vault.customers.create({"last_name": "Nováková"})
    for action, target in history:
        if action == "grant":
            consent.grant(ref.id, target, notice=notices[target], channel="web", actor="t")
        elif action == "withdraw":
            consent.withdraw(ref.id, target, notice=None, channel="web", actor="t")
        elif action == "share":
            consent.grant(
                ref.id,
                "third_party_sharing",
                recipient=target,
                notice=notices[target],
                channel="web",
                actor="t",
            )
        elif action == "unshare":
            consent.withdraw(
                ref.id,
                "third_party_sharing",
                recipient=target,
                notice=None,
                channel="web",
                actor="t",
            )
        elif action == "object":
            consent.object(ref.id, target, channel="web", actor="t")
        else:
            consent.restrict(ref.id, channel="web", actor="t")
    at = vault.clock.now()
    with vault.engine.connect() as connection:
        # An export's one-pass count: included, or left out under the first reason.
        included, excluded = conditions.tally(
            connection, [condition], conditions.CUSTOMERS.c.id == ref.id, at
        )
    by_sql = None if included else next(iter(excluded), None)
    by_facts = conditions.failure_from_facts(condition, consent.customer_consent_state(ref.id, at))
    event(f"reason={by_sql}")
    assert by_sql == by_facts
    assert (included, dict(excluded)) == ((1, {}) if by_facts is None else (0, {by_facts: 1}))


def test_an_export_summary_is_one_pass_without_per_customer_subplans(vault: Vault) -> None:
    """PostgreSQL re-runs a sub-plan for every customer once its set outgrows work_mem
    (an ``IN (subquery)`` inside a ``CASE`` did, and a 1,000,000-customer export never
    finished): every id set an export's summary reads must be a join."""
    condition = Condition(
        consent_to="marketing.communications.email",
        share_with=("parcelfast",),
        not_objected="marketing",
        not_restricted=True,
    )
    query = conditions.tally_query(
        [condition, Condition(consent_to="marketing")],
        conditions.CUSTOMERS.c.erased_at.is_(None),
        vault.clock.now(),
    )
    sql = str(query.compile(vault.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN " if vault.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with vault.engine.connect() as connection:
        plan = "\n".join(str(row) for row in connection.exec_driver_sql(explain + sql))
    if vault.engine.dialect.name == "postgresql":
        assert "SubPlan" not in plan
        assert "Join" in plan
    else:
        # One automatic index per set, probed by a LEFT JOIN; no per-row IN lists.
        assert "LIST SUBQUERY" not in plan
        assert plan.count("LEFT-JOIN") == 5  # 2 consents, sharing, objection, restriction
