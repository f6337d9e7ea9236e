"""The root ``privault`` command and its error boundary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import typer
from click.exceptions import ClickException, Exit
from sqlalchemy.exc import SQLAlchemyError

from privault.cli.context import CliState, stderr
from privault.errors import PrivaultError

app = typer.Typer(
    name="privault",
    help="privault: customer-data privacy vault and guard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None, "--home", envvar="PRIVAULT_HOME", help="Data directory (default ~/.privault)."
    ),
    on_behalf_of: str | None = typer.Option(
        None,
        "--as",
        help="Act on behalf of this principal (its roles decide; the audit trail records both).",
    ),
) -> None:
    ctx.obj = CliState(home=home, on_behalf_of=on_behalf_of)


_registered = False


def build() -> typer.Typer:
    """The whole ``privault`` command tree (registered once per process)."""
    global _registered
    if not _registered:
        _register()
        _registered = True
    return app


def _register() -> None:
    """Sub-command groups; imported here so each slice owns its own CLI module."""
    from privault.cli import admin, consent, customers, keys

    admin.register(app)
    app.add_typer(customers.app, name="customers", help="Customer records.")
    app.add_typer(keys.app, name="keys", help="Master keys: rotate and retire.")
    app.add_typer(consent.app, name="consent", help="Consent, objections, restrictions, proof.")
    from privault.cli import scan

    app.command("scan")(scan.scan)
    from privault.cli import policy

    app.add_typer(policy.app, name="policy", help="Policy as code: check, explain, test.")
    from privault.cli import audit

    app.add_typer(audit.app, name="audit", help="Audit trail: verify, export, checkpoint, list.")
    from privault.cli import principals

    app.add_typer(principals.app, name="principals", help="Principals and their API keys.")
    from privault.cli import serve

    serve.register(app)
    from privault.cli import relay

    relay.register(app)
    from privault.cli import incident

    app.add_typer(incident.app, name="incident", help="Incidents (R7): report, follow, notify.")


# Newer Typer carries its own copy of click: its usage errors and ``Exit`` are then not
# click's classes.  Both are caught, whichever Typer is installed.
try:
    from typer._click.exceptions import ClickException as _TyperUsageError
except ImportError:  # pragma: no cover - a Typer that uses click itself
    _TyperUsageError = ClickException  # type: ignore[assignment,misc]
EXITS: Final = (Exit, typer.Exit)
USAGE_ERRORS: Final = (ClickException, _TyperUsageError)


def main() -> None:
    """Entry point: one line per error, exit 1 (or 2 for bad input), never a traceback."""
    build()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except EXITS as exc:
        sys.exit(exc.exit_code)
    except USAGE_ERRORS as exc:  # an unknown option, a missing argument, a bad value
        exc.show()
        sys.exit(exc.exit_code)
    except PrivaultError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(2 if exc.http_status < 500 else 1)
    except SQLAlchemyError as exc:
        stderr.print(
            f"[bold red]error:[/] database error ({type(exc).__name__}); "
            "is the database reachable and initialised ('privault init')?",
            markup=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except typer.Abort:
        stderr.print("aborted")
        sys.exit(1)
