"""Property: the scanner releases exactly what the gate would release.

For any asker and recipient among the example policy's principals and recipients (and
a stranger), any declared purpose and any set of the S1 world's customers, the
scanner's per-customer verdict equals the gate's answer to reading the same fields of
the same customer for the same asker, recipient and purpose -- and the overall
decision follows from it (allow: everything may go; block: nothing may).
"""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from privault.errors import AccessDenied
from privault.runtime import Vault
from privault.scan import EgressVerdict, Recipient, scan_stream
from tests.api.s1_world import CUSTOMERS, build_world

POLICY_PURPOSES = [
    "essential.service.operations.support",
    "essential.service.operations",
    "essential.service.payment_processing",
    "marketing.communications",
    "marketing.communications.email",
    "essential.legal_obligation",
    "analytics.reporting",
    "functional.service.improve",
]
ASKERS = ["jana.dvorakova", "tomas.kral", "ayesha.khan", "petr.svoboda", "sana.malik"]
# Askers with the purposes their roles are granted: half the examples draw from these.
GRANTED = [
    ("jana.dvorakova", "essential.service.operations.support"),
    ("ayesha.khan", "marketing.communications.email"),
    ("ayesha.khan", "marketing.communications"),
    ("petr.svoboda", "essential.service.payment_processing"),
    ("sana.malik", "essential.legal_obligation"),
]
RECIPIENTS = [None, *ASKERS, "parcelfast-api", "parcelfast", "brightmail", "a-stranger"]


def test_scanner_releases_what_the_gate_releases(vault: Vault, tmp_path: Path) -> None:
    world = build_world(vault)
    scanner = vault.scanner()
    egress = vault.egress
    gate = vault.gate

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        asked=st.one_of(
            st.sampled_from(GRANTED),
            st.tuples(st.sampled_from(ASKERS), st.sampled_from(POLICY_PURPOSES)),
        ),
        recipient=st.sampled_from(RECIPIENTS),
        chosen=st.sets(st.sampled_from(range(len(CUSTOMERS))), min_size=1),
        with_names=st.booleans(),
    )
    def check(
        asked: tuple[str, str], recipient: str | None, chosen: set[int], with_names: bool
    ) -> None:
        asker, purpose = asked
        lines = []
        for i in sorted(chosen):
            first, email, *_ = CUSTOMERS[i]
            lines.append(f"{first} Testová, {email}" if with_names else email)
        report = scan_stream(
            "list.txt",
            io.BytesIO("\n".join(lines).encode()),
            scanner,
            recipient=Recipient(name=recipient or asker),
            purpose=purpose,
            policy=egress,
            asker=asker,
        )
        verdict = report.verdict
        assert isinstance(verdict, EgressVerdict) and verdict.ruling is not None
        ruling = verdict.ruling
        assert report.matches.customers == len(chosen)
        fields = ["email", "first_name", "last_name"] if with_names else ["email"]
        internal = ruling.kind == "internal"
        target = None if ruling.kind == "self" else (recipient or None)
        by_customer = {c.customer: c for c in ruling.customers}
        assert set(by_customer) == {world.ids[CUSTOMERS[i][1]] for i in chosen}
        for i in chosen:
            public_id = world.ids[CUSTOMERS[i][1]]
            released = set()
            for field in fields:  # what the gate gives, asked for each field alone
                try:
                    gate.read(
                        asker,
                        purpose,
                        public_id,
                        [field],
                        recipient=target,
                        action="share" if internal else "export",
                    )
                    released.add(field)
                except AccessDenied:
                    pass
            mine = by_customer[public_id]
            assert set(mine.allow) == released, (asker, recipient, purpose, mine, released)
            assert set(mine.allow) | set(mine.deny) == set(fields)
        everything = all(not c.deny for c in ruling.customers)
        nothing = all(not c.allow for c in ruling.customers)
        expected = "allow" if everything else "block" if nothing else "redact"
        assert verdict.decision == expected
        event(expected)  # --hypothesis-show-statistics: how often each verdict was tried

    check()
