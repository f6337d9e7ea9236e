"""Scanner throughput, single core: ordinary and PII-dense text, Presidio, exact match.

    .venv/bin/python bench/scan.py                 # the table
    .venv/bin/python bench/scan.py --customers 1000000 --big-gb 2

Presidio is measured in the same run on the same text with its regex-only setup
(``NoOpNlpEngine``), on a smaller slice because it is slow.  ``--big-gb`` streams a
generated file of that size through ``scan_stream`` and reports peak memory.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scan.scan_corpus import build_corpus

from privault.catalog.kinds import match_key
from privault.crypto import FileKeyProvider, create_key_file, open_keyring
from privault.scan import (
    CustomerIndex,
    ExactMatcher,
    IndexRow,
    Registry,
    Scanner,
    generic_recognizers,
    scan_stream,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def ordinary_text(size: int) -> str:
    fake = Faker(["en_GB", "cs_CZ"])
    fake.seed_instance(3)
    rng = random.Random(3)
    parts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for _ in range(1500):
        paragraph = fake.paragraph(nb_sentences=6)
        if rng.random() < 0.3:  # ordinary prose has some numbers: years, amounts, times
            paragraph += f" In {rng.randint(1990, 2025)} we paid {rng.randint(1, 9999)} Kč at {rng.randint(0, 23)}:{rng.randint(10, 59)}."  # noqa: E501 -- test data reads best on one line
        parts.append(paragraph)
    base = "\n\n".join(parts)
    return (base * (size // len(base) + 1))[:size]


def dense_text(size: int) -> str:
    base = "\n".join(doc.text for doc in build_corpus(seed=5, per_language=60))
    return (base * (size // len(base) + 1))[:size]


def throughput(fn: Callable[[str], object], text: str, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - start)
    return len(text.encode("utf-8")) / 1e6 / best


def presidio_analyzer() -> Callable[[str], object] | str:
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as exc:
        return f"not installed ({exc.name})"
    try:
        registry = RecognizerRegistry()
        registry.load_predefined_recognizers()
        registry.remove_recognizer("SpacyRecognizer")  # needs an NLP model; regex-only run
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
        engine = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
    except Exception as exc:
        return f"unavailable ({type(exc).__name__}: {exc})"
    return lambda text: engine.analyze(text=text, language="en")


class ListSource:
    def __init__(self, rows: Sequence[IndexRow]) -> None:
        self.rows = rows

    def fetch_since(self, after_id: int, limit: int) -> Sequence[IndexRow]:
        return self.rows[after_id : after_id + limit]


def build_index(customers: int) -> tuple[ExactMatcher, float, int]:
    folder = Path(tempfile.mkdtemp())
    create_key_file(folder / "keys.json")
    keyring = open_keyring(FileKeyProvider(folder / "keys.json"))
    fake = Faker("cs_CZ")
    fake.seed_instance(1)
    firsts = [fake.first_name() for _ in range(500)]
    lasts = [fake.last_name() for _ in range(2000)]
    rng = random.Random(1)
    rows: list[IndexRow] = []
    start = time.perf_counter()
    for n in range(customers):
        cid = f"cus_{n:07d}"
        first, last = rng.choice(firsts), rng.choice(lasts)
        for field, kind, value in (
            ("email", "email", f"c{n}@example.net"),
            ("phone", "phone", f"+420777{n:06d}"),
            ("last_name", "name", last),
            ("full_name", "name", f"{first} {last}"),
        ):
            digest = keyring.blind_index(kind, match_key(kind, value))  # type: ignore[arg-type]
            rows.append(IndexRow(len(rows) + 1, field, cid, digest))
    index = CustomerIndex(ListSource(rows), batch_size=100_000)
    index.refresh()
    return ExactMatcher(index, keyring), time.perf_counter() - start, index.nbytes


def big_file(gigabytes: float, scanner: Scanner) -> tuple[float, float, float]:
    """MB/s, and the process's peak memory before and after streaming the file (MiB):
    flat memory means the second equals the first."""
    block = (ordinary_text(4 << 20) + "\n").encode("utf-8")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = int(gigabytes * (1 << 30))

    class Generated(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def seek(self, offset: int, whence: int = 0) -> int:
            self.sent = offset
            return offset

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            n = min(len(buffer), total - self.sent)
            if n <= 0:
                return 0
            pos = self.sent % len(block)
            chunk = (block[pos:] + block)[:n]
            buffer[: len(chunk)] = chunk
            self.sent += len(chunk)
            return len(chunk)

    start = time.perf_counter()
    scan_stream("big.txt", io.BufferedReader(Generated()), scanner)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return total / 1e6 / elapsed, before, after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=32, help="size of each text sample")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, default=0.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # single core
    ordinary, dense = ordinary_text(args.mb << 20), dense_text(max(1, args.mb // 8) << 20)
    generic, full = Scanner(Registry(generic_recognizers())), Scanner()
    rows: list[tuple[str, str]] = []
    ours_generic = throughput(lambda t: generic.analyze(t), ordinary, 2)
    rows.append(("privault, generic recognisers, ordinary text", f"{ours_generic:8.1f} MB/s"))
    rows.append(
        (
            "privault, all recognisers, ordinary text",
            f"{throughput(full.analyze, ordinary, 2):8.1f} MB/s",
        )
    )
    rows.append(
        (
            "privault, generic recognisers, PII-dense text",
            f"{throughput(generic.analyze, dense):8.1f} MB/s",
        )
    )
    rows.append(
        (
            "privault, all recognisers, PII-dense text",
            f"{throughput(full.analyze, dense):8.1f} MB/s",
        )
    )
    presidio = presidio_analyzer()
    if isinstance(presidio, str):
        rows.append(("presidio-analyzer (regex only)", presidio))
    else:
        slice_ = ordinary[: 256 << 10]
        theirs = throughput(presidio, slice_)
        rows.append(("presidio-analyzer (regex only), ordinary text", f"{theirs:8.3f} MB/s"))
        rows.append(("  ratio privault/presidio, ordinary text", f"{ours_generic / theirs:8.0f} x"))
        dense_slice = dense[: 64 << 10]
        theirs_dense = throughput(presidio, dense_slice)
        ours_dense = throughput(generic.analyze, dense_slice)
        rows.append(("presidio-analyzer (regex only), PII-dense text", f"{theirs_dense:8.3f} MB/s"))
        rows.append(
            ("  ratio privault/presidio, PII-dense text", f"{ours_dense / theirs_dense:8.0f} x")
        )
    matcher, seconds, nbytes = build_index(args.customers)
    rows.append(
        (
            f"index of {args.customers:,} customers: build / memory",
            f"{seconds:6.1f} s / {nbytes / 1e6:.0f} MB",
        )
    )
    matching = Scanner(matcher=matcher)
    rows.append(
        (
            f"exact match vs {args.customers:,} customers, ordinary text",
            f"{throughput(matching.analyze, ordinary, 2):8.1f} MB/s",
        )
    )
    rows.append(
        (
            f"exact match vs {args.customers:,} customers, PII-dense text",
            f"{throughput(matching.analyze, dense):8.1f} MB/s",
        )
    )
    if args.big_gb:
        speed, before, after = big_file(args.big_gb, full)
        rows.append(
            (
                f"{args.big_gb} GB generated file, streamed",
                f"{speed:8.1f} MB/s, peak RSS {before:.0f} MiB before, {after:.0f} MiB after",
            )
        )
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:{width}s}  {value}")


if __name__ == "__main__":
    main()
