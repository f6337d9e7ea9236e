"""Verifying a large trail in several processes: blocks taken from both ends.

The chain is cut into blocks.  This process takes blocks from the front and verifies
them itself (exactly, with ``ChainVerifier``); worker processes (``privault.audit.blocks``
run by a fresh interpreter) take blocks from the back and answer clean or not clean.
They meet wherever the work has got to, so a slow start or a busy core only moves the
meeting point.  Afterwards this process joins the workers' blocks in order: a clean
block that starts where the chain stands is taken whole, anything else is verified
again here, entry by entry -- so the report is the one a single process would give.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from privault.audit import blocks as blocks_module
from privault.audit.blocks import Answer
from privault.audit.verify import ChainVerifier

WORKER_PROGRAM: Final[str] = str(Path(blocks_module.__file__).resolve())
MAX_WORKERS: Final[int] = 3


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Parallel:
    """How to split a verification: ``workers`` extra processes, blocks of ``block``
    entries (or bytes of an export), and only for trails of at least ``minimum``."""

    workers: int
    block: int
    minimum: int

    @classmethod
    def rows(cls, postgresql: bool) -> Parallel:
        """A worker starts in about 0.1 s of CPU (SQLite) or 0.5 s (it imports psycopg),
        and each PostgreSQL reader also keeps a server process busy: workers only where
        they cost a small part of the whole (3.5 us of CPU per entry, or 4.5)."""
        return cls(min(_cpus() - 1, MAX_WORKERS), 16_384, 1_000_000 if postgresql else 200_000)

    @classmethod
    def export_bytes(cls) -> Parallel:
        """Blocks of 4 MiB (about 7,000 entries); from about 100,000 entries."""
        return cls(min(_cpus() - 1, MAX_WORKERS), 4 << 20, 64 << 20)

    @classmethod
    def off(cls) -> Parallel:
        return cls(0, 16_384, 0)


class Blocks:
    """Blocks ``0 .. count-1``: this process takes them from the front, workers from the
    back.  ``front`` blocks were taken from the front; blocks ``back ..`` from the back."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.front = 0
        self.back = count
        self.lock = threading.Lock()

    def take_front(self) -> int | None:
        with self.lock:
            if self.front >= self.back:
                return None
            self.front += 1
            return self.front - 1

    def take_back(self) -> int | None:
        """Call with ``lock`` held."""
        if self.front >= self.back:
            return None
        self.back -= 1
        return self.back


class Worker:
    """One worker process and the thread that feeds it blocks from the back."""

    def __init__(
        self, task: dict[str, Any], blocks: Blocks, bounds: Callable[[int], tuple[int, int]]
    ) -> None:
        self.blocks = blocks
        self.bounds = bounds
        self.stopped = False
        self.answers: dict[int, Answer] = {}
        with blocks.lock:  # one block now, so a worker that starts slowly still has one
            self.first = blocks.take_back()
            self.busy = self.first is not None
        self.process = subprocess.Popen(  # noqa: S603 - our own program, no shell
            [sys.executable, "-I", WORKER_PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(
            target=self._run, args=(task,), name="privault-audit-worker", daemon=True
        )
        self.thread.start()

    def _run(self, task: dict[str, Any]) -> None:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            _send(stdin, task)
            if not stdout.readline():  # ready (or gone)
                return
            index = self.first
            while index is not None:
                _send(stdin, list(self.bounds(index)))
                line = stdout.readline()
                if not line:
                    return
                self.answers[index] = json.loads(line)
                with self.blocks.lock:
                    index = None if self.stopped else self.blocks.take_back()
                    self.busy = index is not None
        except (OSError, ValueError):
            return  # blocks it did not answer are verified by the parent
        finally:
            with self.blocks.lock:
                self.busy = False
            with contextlib.suppress(OSError):
                stdin.close()


def _send(stream: IO[bytes], message: Any) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


class Workers:
    """Up to ``count`` workers for ``task``; ``finish`` returns their answers."""

    def __init__(
        self,
        count: int,
        task: dict[str, Any],
        blocks: Blocks,
        bounds: Callable[[int], tuple[int, int]],
    ) -> None:
        self.workers: list[Worker] = []
        task = {**task, "path": [p for p in sys.path if p]}
        with contextlib.suppress(OSError):
            for _ in range(count):
                self.workers.append(Worker(task, blocks, bounds))
        self.blocks = blocks

    def finish(self) -> dict[int, Answer]:
        """Wait for the blocks under way; stop workers that are idle or still starting."""
        with self.blocks.lock:
            for worker in self.workers:
                worker.stopped = True
            waiting = [w for w in self.workers if w.busy]
        for worker in waiting:
            worker.thread.join()
        self.close()
        answers: dict[int, Answer] = {}
        for worker in self.workers:
            answers.update(worker.answers)
        return answers

    def close(self) -> None:
        with self.blocks.lock:
            for worker in self.workers:
                worker.stopped = True
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.kill()
        for worker in self.workers:
            worker.process.wait()
            worker.thread.join()
            for stream in (worker.process.stdin, worker.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()


def signed_pairs(seqs_and_hashes: Sequence[tuple[int, bytes]]) -> list[list[Any]]:
    return [[seq, digest.hex()] for seq, digest in seqs_and_hashes]


def join_answer(verifier: ChainVerifier, answer: Answer) -> bool:
    """Take a block a worker found clean, if it starts where the chain stands."""
    if not answer["ok"]:
        return False
    if answer["start"] is None:  # no line starts in this block of an export
        return int(answer["count"]) == 0
    (first, prev), (stop, last) = answer["start"], answer["end"]
    return verifier.join((first, bytes.fromhex(prev)), (stop, bytes.fromhex(last)), answer["count"])
