"""How long a policy decision takes: privault's engine against Cedar (cedarpy).

Run: ``.venv/bin/python bench/decide.py`` (cedarpy comes with the ``bench`` extra).

Both engines answer the same single-field questions drawn from the example policy.
Cedar gets the policy pre-parsed (``PolicySet``), the entities pre-parsed
(``Entities``) and an encoding of the steps it can express (known principal, role
grants with the purpose hierarchy, need to know, views, deny rules); it does not
compute consent conditions, so it does less work than privault per question.
Targets (issue 3): median <= 2 us per decision, >= 50x faster than cedarpy.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence

from privault.catalog.taxonomy import Taxonomy, ancestors, covers
from privault.policy import ACTIONS, Policy, PolicyEngine, Request, compile_policy
from privault.runtime import read_policy

SAMPLES = 20_000
BATCH = 10_000
ROUNDS = 15


def questions(policy: Policy, engine: PolicyEngine, count: int, seed: int = 7) -> list[Request]:
    rng = random.Random(seed)
    principals = sorted(policy.principals)
    purposes = sorted(policy.purposes)
    fields = list(engine.catalog.names)
    recipients: list[str | None] = [None, None, None, *sorted(policy.recipients), "tomas.kral"]
    return [
        Request(
            rng.choice(principals),
            rng.choice(purposes),
            (rng.choice(fields),),
            rng.choice(ACTIONS),
            rng.choice(recipients),
        )
        for _ in range(count)
    ]


def percentiles(samples_ns: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def time_each(call: Callable[[int], object], count: int) -> list[float]:
    """Nanoseconds per call, one timer pair per call (timer overhead included)."""
    clock = time.perf_counter_ns
    out: list[float] = []
    gc.disable()
    try:
        for i in range(count):
            start = clock()
            call(i)
            out.append(clock() - start)
    finally:
        gc.enable()
    return out


def time_batches(run: Callable[[], object], rounds: int) -> list[float]:
    out: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        run()
        out.append(time.perf_counter_ns() - start)
    return out


# -- Cedar encoding ---------------------------------------------------------------------


def cedar_policies(policy: Policy) -> str:
    rules = []
    for role in policy.roles.values():
        actions = ", ".join(f'Action::"{a}"' for a in role.actions)
        for grant in role.purposes:
            for key, spec in policy.purposes.items():
                if not covers(grant, key):
                    continue
                for category, view in role.views.items():
                    if view == "none":
                        continue
                    for need in spec.needs:
                        if covers(need, category) or covers(category, need):
                            scope = category if covers(need, category) else need
                            rules.append(
                                f'permit(principal in Role::"{role.name}", action in [{actions}], '
                                f'resource in Category::"{scope}") when '
                                f'{{ context.purpose in Purpose::"{key}" }};'
                            )
    for deny in policy.deny:
        conditions = []
        if deny.principals:
            conditions.append(" || ".join(f'principal == User::"{p}"' for p in deny.principals))
        if deny.actions:
            conditions.append(" || ".join(f'action == Action::"{a}"' for a in deny.actions))
        if deny.categories:
            conditions.append(" || ".join(f'resource in Category::"{c}"' for c in deny.categories))
        if deny.recipients:
            conditions.append(" || ".join(f'context.recipient == "{r}"' for r in deny.recipients))
        body = " && ".join(f"({c})" for c in conditions) or "true"
        rules.append(f"forbid(principal, action, resource) when {{ {body} }};")
    return "\n".join(rules)


def cedar_entities(
    policy: Policy, engine: PolicyEngine, taxonomy: Taxonomy
) -> list[dict[str, object]]:
    def uid(kind: str, key: str) -> dict[str, str]:
        return {"type": kind, "id": key}

    def parent(key: str) -> list[dict[str, str]]:
        up = ancestors(key)
        return [uid("", up[1])] if len(up) > 1 else []

    entities: list[dict[str, object]] = []
    for key in taxonomy.categories:
        entities.append(
            {
                "uid": uid("Category", key),
                "attrs": {},
                "parents": [dict(p, type="Category") for p in parent(key)],
            }
        )
    for key in taxonomy.uses:
        entities.append(
            {
                "uid": uid("Purpose", key),
                "attrs": {},
                "parents": [dict(p, type="Purpose") for p in parent(key)],
            }
        )
    for role in policy.roles:
        entities.append({"uid": uid("Role", role), "attrs": {}, "parents": []})
    for name, spec in policy.principals.items():
        entities.append(
            {"uid": uid("User", name), "attrs": {}, "parents": [uid("Role", r) for r in spec.roles]}
        )
    for definition in engine.catalog:
        entities.append(
            {
                "uid": uid("Field", definition.name),
                "attrs": {},
                "parents": [uid("Category", definition.category)],
            }
        )
    return entities


def cedar_request(request: Request) -> dict[str, object]:
    return {
        "principal": f'User::"{request.principal}"',
        "action": f'Action::"{request.action}"',
        "resource": f'Field::"{request.fields[0]}"',
        "context": {
            "purpose": {"__entity": {"type": "Purpose", "id": request.purpose}},
            "recipient": request.recipient or "",
        },
    }


def main() -> None:
    taxonomy = Taxonomy.load()
    policy = read_policy(None, taxonomy)
    engine = compile_policy(policy, taxonomy=taxonomy)
    asked = questions(policy, engine, SAMPLES)
    batch = asked[:BATCH]
    decide = engine.decide
    for request in asked:  # warm: tables and decision cache, as in a running service
        decide(request)

    rows: list[tuple[str, float, float]] = []
    warm = time_each(lambda i: decide(asked[i]), SAMPLES)
    rows.append(("privault decide, 1 decision (cached)", *percentiles(warm)))

    def uncached(i: int) -> object:
        engine._cache.clear()
        return decide(asked[i])

    cold = time_each(uncached, 5_000)
    rows.append(("privault decide, 1 decision (tables, no cache)", *percentiles(cold)))
    ours_batch = time_batches(lambda: [decide(r) for r in batch], ROUNDS)
    rows.append((f"privault decide, batch of {BATCH:,}", *percentiles(ours_batch)))

    cedar_ratio = None
    try:
        import cedarpy
    except ImportError:
        print("cedarpy is not installed: pip install cedarpy (the bench extra)")
    else:
        policies = cedarpy.PolicySet.from_str(cedar_policies(policy))
        entities = cedarpy.Entities.from_json_str(
            json.dumps(cedar_entities(policy, engine, taxonomy))
        )
        cedar_asked = [cedar_request(r) for r in asked]
        check = cedarpy.is_authorized(cedar_asked[0], policies, entities)
        assert check.decision in (cedarpy.Decision.Allow, cedarpy.Decision.Deny), check
        one = time_each(lambda i: cedarpy.is_authorized(cedar_asked[i], policies, entities), 5_000)
        rows.append(("cedarpy is_authorized, 1 decision", *percentiles(one)))
        cedar_batch = cedar_asked[:BATCH]
        many = time_batches(
            lambda: cedarpy.is_authorized_batch(cedar_batch, policies, entities),
            max(3, ROUNDS // 3),
        )
        rows.append((f"cedarpy is_authorized_batch, batch of {BATCH:,}", *percentiles(many)))
        cedar_ratio = (
            statistics.median(one) / statistics.median(warm),
            statistics.median(many) / statistics.median(ours_batch),
        )
        agree = sum(
            (engine.decide(r).effect != "deny")
            == (cedarpy.is_authorized(c, policies, entities).decision == cedarpy.Decision.Allow)
            for r, c in zip(asked[:2000], cedar_asked[:2000], strict=True)
        )
        print(
            f"sanity: allow/deny agree on {agree} of 2000 questions "
            "(Cedar encoding has no consent, approval or recipient-role steps)"
        )

    width = max(len(name) for name, _, _ in rows)
    print(f"{'measurement':<{width}}  {'median':>12}  {'p99':>12}")
    for name, median, p99 in rows:
        print(f"{name:<{width}}  {fmt(median):>12}  {fmt(p99):>12}")
    per = statistics.median(ours_batch) / BATCH
    print(f"privault per decision inside a batch: {fmt(per)}")
    if cedar_ratio is not None:
        print(f"speed-up over cedarpy: {cedar_ratio[0]:.0f}x (one), {cedar_ratio[1]:.0f}x (batch)")


def fmt(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


if __name__ == "__main__":
    main()
