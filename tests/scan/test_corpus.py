"""Precision and recall per entity type on the labelled corpus; the seeds stay clean."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from privault.scan import Scanner
from tests.scan.scan_corpus import build_corpus

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
REQUIRED = ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "CZ_BIRTH_NUMBER", "PHONE_NUMBER")


def precision_recall() -> dict[str, tuple[float, float, int]]:
    scanner = Scanner()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for doc in build_corpus():
        expected = list(doc.spans)
        for finding in scanner.analyze(doc.text):
            hit = next(
                (
                    e
                    for e in expected
                    if e[0] == finding.entity and e[1] < finding.end and finding.start < e[2]
                ),
                None,
            )
            if hit is None:
                fp[finding.entity] += 1
            else:
                tp[finding.entity] += 1
                expected.remove(hit)
        for entity, _, _ in expected:
            fn[entity] += 1
    table: dict[str, tuple[float, float, int]] = {}
    for entity in sorted(set(tp) | set(fp) | set(fn)):
        precision = tp[entity] / max(1, tp[entity] + fp[entity])
        recall = tp[entity] / max(1, tp[entity] + fn[entity])
        table[entity] = (precision, recall, tp[entity] + fn[entity])
    return table


def test_precision_and_recall_per_entity(capsys: pytest.CaptureFixture[str]) -> None:
    table = precision_recall()
    with capsys.disabled():
        print("\nentity              precision  recall  support")
        for entity, (p, r, n) in table.items():
            print(f"{entity:20s} {p:9.3f} {r:7.3f} {n:8d}")
    for entity in REQUIRED:
        precision, recall, support = table[entity]
        assert support >= 50, entity
        assert precision >= 0.95 and recall >= 0.95, (entity, precision, recall)


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_seed_prose_has_no_personal_data(seed: Path) -> None:
    assert Scanner().analyze(seed.read_text(encoding="utf-8")) == []


def test_findings_never_carry_the_value() -> None:
    text = "mail jan.novak@example.cz, IBAN CZ65 0800 0000 1920 0014 5399"
    findings = Scanner().analyze(text)
    assert len(findings) == 2
    for finding in findings:
        dumped = repr(finding) + str(finding.to_dict())
        assert "novak" not in dumped and "0800" not in dumped


if __name__ == "__main__":
    for name, (p, r, n) in precision_recall().items():
        print(f"{name:20s} P={p:.3f} R={r:.3f} n={n}")
