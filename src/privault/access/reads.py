"""How a server runs the gate: single-customer reads scheduled for an event loop, and
every other blocking call in a thread under the request's deadline.

This is the domain's scheduling of the read path, built once per process by the
composition root; the HTTP layer only parses, authenticates and renders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Final, ParamSpec, TypeVar

import anyio
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from privault.access.gate import AccessGate, ReadResult
from privault.audit.group import LoopGroup
from privault.errors import N_, RequestTimeout
from privault.store.db import long_writes_running

REQUEST_TIMEOUT_SECONDS: Final[float] = 30.0
TOO_SLOW: Final = N_("The request took too long and was stopped; no data was returned.")

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(
    timeout: float, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a blocking library call in a thread; ``RequestTimeout`` after ``timeout`` s.
    A call that overruns answers nothing (the thread finishes on its own, and anything
    it returns is dropped -- fail closed)."""
    call = functools.partial(function, *args, **kwargs)
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    except TimeoutError:
        raise RequestTimeout(TOO_SLOW) from None


class ReadScheduler:
    """``AccessGate.read`` for a server, and ``call`` for the gate's other operations."""

    def __init__(
        self, gate: AccessGate, engine: Engine, timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> None:
        self.gate = gate
        self.engine = engine
        self.timeout = timeout
        self.loop_audit = LoopGroup(gate.audit.record_many)
        # The connection this worker's event loop reads SQLite on (see ``read``).
        self._loop_connection: Connection | None = None

    async def call(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """A blocking service call in a thread, under this server's request deadline."""
        return await in_thread(self.timeout, function, *args, **kwargs)

    async def read(
        self, principal: str, purpose: str, customer: str, fields: Sequence[str]
    ) -> ReadResult:
        """``AccessGate.read``: on SQLite, right here on the event loop, awaiting the
        commit of its audit entry with the other reads of this turn of the loop
        (``LoopGroup``); otherwise in a thread under the request deadline.

        Handing a read to a thread and back costs more CPU than an audited read on
        SQLite (a local file, a few indexed statements), and threads contending for
        the GIL spread the latencies.  The loop may wait for a short write of another
        worker; while an import or a key rotation runs (``store.db.long_writes``),
        whose writes come one after another, the read goes to a thread so the loop
        never waits behind them.  PostgreSQL reads always go to a thread (each
        statement is a network round trip).

        On the loop, the customer is read on one connection the loop keeps (checking
        one out of the pool and back cost ~60 us a read, a sixth of it): the loop runs
        one read's statements at a time, and they open no transaction, so reads that
        interleave at their awaits can share it.  The audit entries commit on pooled
        connections as before.
        """
        engine = self.engine
        if engine.dialect.name != "sqlite" or long_writes_running(engine):
            return await self.call(self.gate.read, principal, purpose, customer, fields)
        if self._loop_connection is None:
            self._loop_connection = engine.connect()
        steps = self.gate.read_steps(
            principal, purpose, customer, fields, connection=self._loop_connection
        )
        try:
            entry = next(steps)
            while True:
                chained = await self.loop_audit.record(entry)
                entry = steps.send(chained.seq)
        except StopIteration as done:
            result: ReadResult = done.value
            return result
        except SQLAlchemyError:
            # Whatever broke, the next read starts on a fresh connection.
            broken, self._loop_connection = self._loop_connection, None
            if broken is not None:
                broken.invalidate()
            raise

    def close(self) -> None:
        """Give back the loop's connection (at shutdown)."""
        connection, self._loop_connection = self._loop_connection, None
        if connection is not None:
            connection.close()
