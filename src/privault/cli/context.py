"""What every command needs: settings from the root options, JSON or Rich output, errors.

Commands print results through ``emit`` so that ``--json`` gives machine output on
every command, and raise ``PrivaultError`` for failures; ``main`` turns those into one
clear line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from privault.audit import acting
from privault.errors import N_, UnknownKey
from privault.runtime import Vault, open_vault
from privault.settings import Settings

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")
LangOption = typer.Option("en", "--lang", help="Language of messages: en, cs or ur.")


@dataclass
class CliState:
    home: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    # ``--as NAME``: the principal the operator acts for (checked when the vault opens).
    on_behalf_of: str | None = None

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
    """The CLI's own principal: ``cli:<operating-system user>`` (``cli:uid-<n>`` where
    the user has no name).  It holds the built-in operator role -- it can read the key
    ring, so it runs every administrative command -- and reaches customer data only
    through a stated purpose, like anyone else."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = ""
    cleaned = re.sub(r"[^\w.-]", "-", name).strip("-_")
    return f"cli:{cleaned}" if cleaned else f"cli:uid-{uid}"


def principal(ctx: typer.Context) -> str:
    """Who a command acts as: the ``--as`` principal, else the operator itself."""
    return state(ctx).on_behalf_of or operator()


@contextmanager
def vault_for(ctx: typer.Context) -> Iterator[Vault]:
    """The composition root for one command, acting as the operator (or on behalf of the
    ``--as`` principal, which must be known): every audit entry written meanwhile
    records the actor and, with ``--as``, whom it acted for."""
    with open_vault(settings(ctx)) as vault:
        behalf = state(ctx).on_behalf_of
        if behalf is not None and behalf not in vault.effective_policy().principals:
            raise UnknownKey(N_("--as: there is no principal named '%(name)s'."), name=behalf)
        with acting(operator(), behalf):
            yield vault


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
