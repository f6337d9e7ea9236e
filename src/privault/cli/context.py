"""What every command needs: settings from the root options, JSON or Rich output, errors.

Commands print results through ``emit`` so that ``--json`` gives machine output on
every command, and raise ``PrivaultError`` for failures; ``main`` turns those into one
clear line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from privault.settings import Settings

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")
LangOption = typer.Option("en", "--lang", help="Language of messages: en, cs or ur.")


@dataclass
class CliState:
    home: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> Settings:
        values: dict[str, Any] = dict(self.overrides)
        if self.home is not None:
            values["home"] = self.home
        return Settings(**values)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def operator() -> str:
    """Who runs a CLI command, for the audit trail: $PRIVAULT_OPERATOR or the OS user."""
    name = os.environ.get("PRIVAULT_OPERATOR") or getpass.getuser()
    cleaned = re.sub(r"[^\w.@-]", "-", name).strip("-_") or "operator"
    return f"cli:{cleaned}"


def settings(ctx: typer.Context) -> Settings:
    return state(ctx).settings()


stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def emit(data: Any, as_json: bool, render: Callable[[Console], None] | None = None) -> None:
    """Print ``data`` as JSON, or call ``render`` for people (falls back to JSON)."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        sys.stdout.flush()
        return
    render(stdout)
