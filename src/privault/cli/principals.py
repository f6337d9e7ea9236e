"""``privault principals``: add principals at run time and manage their API keys.

A key is printed once, when it is issued, and never again: only its hash is stored.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from privault.cli.context import JsonOption, emit, principal, vault_for

app = typer.Typer(no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The principal's name (a person or a service)."),
    role: list[str] = typer.Option(..., "--role", help="A role of the policy (repeatable)."),
    external: bool = typer.Option(False, "--external", help="Belongs to an external party."),
    organisation: str | None = typer.Option(
        None, "--organisation", help="For --external: the policy's recipient it belongs to."
    ),
    service: bool = typer.Option(False, "--service", help="A program, not a person."),
    as_json: bool = JsonOption,
) -> None:
    """Add a principal and print its first API key (shown once)."""
    with vault_for(ctx) as vault:
        issued = vault.principals.add(
            vault.policy,
            name,
            role,
            actor=principal(ctx),
            external=external,
            organisation=organisation,
            kind="service" if service else "person",
        )
    result = {"principal": issued.principal, "key_id": issued.key_id, "api_key": issued.secret}

    def render(out: Console) -> None:
        out.print(f"Added principal {issued.principal} ({', '.join(role)}).")
        out.print(f"API key (shown once, store it now): [bold]{issued.secret}[/]")

    emit(result, as_json, render)


@app.command("key")
def issue(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A principal of the policy file or added at run time."),
    as_json: bool = JsonOption,
) -> None:
    """Issue an additional API key for a principal (shown once)."""
    with vault_for(ctx) as vault:
        issued = vault.principals.issue_key(vault.effective_policy(), name, actor=principal(ctx))
    result = {"principal": issued.principal, "key_id": issued.key_id, "api_key": issued.secret}
    emit(result, as_json, lambda out: out.print(f"API key (shown once): [bold]{issued.secret}[/]"))


@app.command("list")
def list_keys(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Principals (from the policy and added at run time) and their keys, never secrets."""
    with vault_for(ctx) as vault:
        policy = vault.policy
        effective = vault.effective_policy()
        keys = vault.principals.keys()
    rows = [
        {
            "principal": spec.name,
            "roles": list(spec.roles),
            "internal": spec.internal,
            "source": "policy" if spec.name in policy.principals else "added",
            "keys": [
                {
                    "key_id": k.key_id,
                    "created_at": k.created_at.isoformat(),
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in keys
                if k.principal == spec.name
            ],
        }
        for spec in effective.principals.values()
    ]

    def render(out: Console) -> None:
        table = Table("principal", "roles", "internal", "source", "active keys")
        for spec in effective.principals.values():
            active = [k.key_id for k in keys if k.principal == spec.name and k.revoked_at is None]
            table.add_row(
                spec.name,
                ", ".join(spec.roles),
                "yes" if spec.internal else "no",
                "policy" if spec.name in policy.principals else "added",
                ", ".join(active) or "-",
            )
        out.print(table)

    emit(rows, as_json, render)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key id shown by 'privault principals list'."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke one API key; requests with it fail from now on."""
    with vault_for(ctx) as vault:
        vault.principals.revoke(key_id, actor=principal(ctx))
    emit({"revoked": key_id}, as_json, lambda out: out.print(f"Key {key_id} revoked."))


@app.command("rotate")
def rotate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The principal whose keys to rotate."),
    as_json: bool = JsonOption,
) -> None:
    """Issue a new key for a principal and revoke all its older keys."""
    with vault_for(ctx) as vault:
        issued = vault.principals.rotate(vault.effective_policy(), name, actor=principal(ctx))
    result = {"principal": issued.principal, "key_id": issued.key_id, "api_key": issued.secret}
    emit(
        result,
        as_json,
        lambda out: out.print(
            f"New API key for {name} (shown once; older keys revoked): [bold]{issued.secret}[/]"
        ),
    )
