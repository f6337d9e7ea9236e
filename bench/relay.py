"""The SMTP relay: start-up on a large vault, messages/s and added latency.

    .venv/bin/python bench/relay.py                      # 100,000 customers, the table
    .venv/bin/python bench/relay.py --customers 10000 --messages 400 --clients 8

A vault with ``--customers`` customers (name, e-mail, phone) is built through the
composition root.  Start-up is measured from ``open_vault`` to the relay accepting
connections, and to the exact-match index being ready (it is built in the
background; messages that arrive meanwhile wait for it).  Then ``--clients`` SMTP
clients (smtplib, one connection each) send a 20 KB message, first straight to an
aiosmtpd sink (the baseline) and then through the relay to the same sink:
"added" latency is the relay's percentile minus the baseline's.  The message with
customer data holds 40 of our customers' e-mail addresses and is refused (550).
Every relayed message is scanned, decided and audited (SQLite, group commit).
"""

from __future__ import annotations

import argparse
import multiprocessing
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.incidents.receivers import free_port
from tests.relay.conftest import RawSink

from privault.customers.records import PreparedRecord
from privault.relay import RelayConfig, Upstream
from privault.relay.wiring import build_relay
from privault.runtime import initialise, open_vault
from privault.settings import Settings
from privault.store.db import session_scope

SIZE = 20 * 1024
CHUNK = 5000


def _prepare(args: tuple[dict[str, Any], int, int]) -> list[PreparedRecord]:
    env, start, count = args
    vault = open_vault(Settings(**env))
    fake = Faker("cs_CZ")
    fake.seed_instance(start)
    try:
        return [
            vault.customers.prepare(
                {
                    "first_name": fake.first_name(),
                    "last_name": fake.last_name(),
                    "email": f"customer{i}@example.cz",
                    "phone": f"+420 7{i % 100_000_000:08d}",
                },
                "cs",
            )
            for i in range(start, start + count)
        ]
    finally:
        vault.close()


def build_vault(env: dict[str, Any], customers: int) -> float:
    settings = Settings(**env)
    initialise(settings, actor="cli:bench")
    started = time.perf_counter()
    jobs = [(env, s, min(CHUNK, customers - s)) for s in range(0, customers, CHUNK)]
    with open_vault(settings) as vault, ProcessPoolExecutor(2) as pool:
        for records in pool.map(_prepare, jobs):
            with session_scope(vault.engine) as session:
                vault.customers.insert_prepared(session, records, ["essential.service"])
    return time.perf_counter() - started


def prose(size: int, extra: str = "") -> bytes:
    fake = Faker("en_GB")
    fake.seed_instance(7)
    text = extra
    while len(text) < size - 400:
        text += fake.paragraph(nb_sentences=8) + "\n\n"
    text = text[: size - 400]
    head = (
        "From: Alice <alice@company.example>\r\nTo: Bob <bob@partner.example>\r\n"
        "Subject: Quarterly notes\r\nMessage-ID: <bench@company.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return (head + text.replace("\n", "\r\n") + "\r\n-- \r\nAlice, +420 222 333 444\r\n").encode()


def customer_mail() -> bytes:
    rows = "".join(f"customer{i}@example.cz, +420 7{i:08d}\n" for i in range(40))
    return prose(SIZE, "Here is the list you asked for:\n" + rows + "\n")


def run(port: int, data: bytes, messages: int, clients: int) -> tuple[list[float], float, int]:
    """(latencies in s, elapsed s, refused) for ``messages`` sends over ``clients``."""
    latencies: list[float] = []
    refused = 0
    lock = threading.Lock()

    def client(count: int) -> None:
        nonlocal refused
        mine: list[float] = []
        rejected = 0
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            smtp.ehlo("bench.example")
            for _ in range(count):
                start = time.perf_counter()
                try:
                    smtp.sendmail("alice@company.example", ["bob@partner.example"], data)
                except smtplib.SMTPDataError as exc:
                    if exc.smtp_code // 100 == 4:
                        raise
                    rejected += 1
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            refused += rejected

    share = [messages // clients + (1 if i < messages % clients else 0) for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, share))
    return latencies, time.perf_counter() - started, refused


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _serve_sink(port: int, ready: Any, stop: Any) -> None:
    controller = Controller(RawSink(keep=False), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def sink() -> Iterator[int]:
    """An aiosmtpd sink in a process of its own (so it does not share the relay's GIL)."""
    port = free_port()
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    process = multiprocessing.Process(target=_serve_sink, args=(port, ready, stop), daemon=True)
    process.start()
    ready.wait(30)
    try:
        yield port
    finally:
        stop.set()
        process.join(10)


def load(port: int, data: bytes, messages: int, clients: int) -> tuple[list[float], float, int]:
    """``run`` in a process of its own: the clients do not share the relay's GIL either."""
    with ProcessPoolExecutor(1) as pool:
        return pool.submit(run, port, data, messages, clients).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env: dict[str, Any] = {"home": Path(tmp) / "home"}
        built = build_vault(env, args.customers)
        print(f"vault: {args.customers:,} customers built in {built:.1f} s", flush=True)
        with sink() as sink_port:
            started = time.perf_counter()
            vault = open_vault(Settings(**env))
            port = free_port()
            relay = build_relay(
                vault,
                RelayConfig(host="127.0.0.1", port=port),
                Upstream("127.0.0.1", sink_port, "none"),
            )
            relay.start()
            listening = time.perf_counter() - started
            relay.decider.ready(120)
            indexed = time.perf_counter() - started
            try:
                print(
                    f"start-up: accepting connections after {listening:.2f} s; "
                    f"exact-match index ready after {indexed:.2f} s",
                    flush=True,
                )
                clean, dirty = prose(SIZE), customer_mail()
                load(port, clean, 40, 2)  # warm-up
                rows = []
                # latency: one client at a time (no queueing); throughput: --clients at once
                base, _, _ = load(sink_port, clean, args.messages // 2, 1)
                _, base_s, _ = load(sink_port, clean, args.messages, args.clients)
                for label, data in (("clean 20 KB", clean), ("40 customers 20 KB", dirty)):
                    lat, _, refused = load(port, data, args.messages // 2, 1)
                    done, elapsed, _ = load(port, data, args.messages, args.clients)
                    rows.append((label, len(done) / elapsed, lat, refused))
                report(args, base, args.messages / base_s, rows)
            finally:
                relay.stop()
                vault.close()


def report(
    args: argparse.Namespace,
    base: list[float],
    base_rate: float,
    rows: list[tuple[str, float, list[float], int]],
) -> None:
    ms: Callable[[float], str] = lambda s: f"{s * 1000:9.2f}"  # noqa: E731
    print()
    print(
        f"msgs/s: {args.messages} messages from {args.clients} concurrent clients; latency: "
        f"{args.messages // 2} messages from one client (+: added over direct to sink)"
    )
    heads = ("msgs/s", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms")
    print(f"{'path':<26}" + "".join(f"{h:>9}" for h in heads) + "  refused")
    b50, b99 = pct(base, 0.5), pct(base, 0.99)
    print(f"{'direct to sink':<26}{base_rate:9.0f}{ms(b50)}{ms(b99)}{'-':>9}{'-':>9}  -")
    for label, rate, lat, refused in rows:
        p50, p99 = pct(lat, 0.5), pct(lat, 0.99)
        added = f"{ms(p50 - b50)}{ms(p99 - b99)}"
        print(f"{'relay, ' + label:<26}{rate:9.0f}{ms(p50)}{ms(p99)}{added}  {refused}")
    mean = (statistics.mean(rows[0][2]) - statistics.mean(base)) * 1000
    print(f"(mean added latency, clean mail: {mean:.2f} ms)")


if __name__ == "__main__":
    main()
