"""Rich progress bars for long work (imports, rotation), silent in --json mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from privault.cli.context import stderr


@contextmanager
def bytes_progress(
    total: int, label: str, *, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yields a callback taking the absolute number of bytes processed.

    Redrawn on each callback rather than by rich's refresh thread: an import runs
    single-threaded, so it can fork its worker processes (see customers.importer).
    """
    if quiet:
        yield lambda _done: None
        return
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=False, auto_refresh=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done, refresh=True)


@contextmanager
def count_progress(
    total: int, label: str, *, quiet: bool = False
) -> Iterator[Callable[[int], None]]:
    """Yields a callback taking an increment of items processed."""
    if quiet:
        yield lambda _step: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda step: progress.advance(task, step)
