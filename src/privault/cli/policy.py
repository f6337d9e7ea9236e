"""``privault policy``: check a policy, explain a decision, run a policy's test cases.

The policy is the path given, else ``Settings.policy_path``, else the shipped example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from privault.cli.context import JsonOption, LangOption, emit, settings
from privault.errors import N_, InvalidInput
from privault.i18n import LANGUAGES
from privault.policy import (
    ACTIONS,
    EXAMPLE_TESTS,
    PolicyEngine,
    Request,
    compile_policy,
    explain,
    run_cases,
)
from privault.runtime import read_policy

app = typer.Typer(no_args_is_help=True, help="Policy as code: check, explain, test.")

PolicyOption = typer.Option(
    None, "--policy", help="Policy file or directory (default: settings, else the example)."
)


def _policy_path(ctx: typer.Context, given: Path | None) -> Path | None:
    return given if given is not None else settings(ctx).policy_path


def _engine(ctx: typer.Context, given: Path | None) -> PolicyEngine:
    return compile_policy(read_policy(_policy_path(ctx, given)))


@app.command()
def check(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Policy file or directory.")] = None,
    as_json: bool = JsonOption,
) -> None:
    """Validate a policy and compile it; errors name the file, the entry and the problem."""
    engine = _engine(ctx, path)
    policy = engine.policy
    data = {
        "ok": True,
        "version": policy.version,
        "digest": policy.digest,
        "files": list(policy.sources),
        "purposes": len(policy.purposes),
        "roles": len(policy.roles),
        "principals": len(policy.principals),
        "recipients": len(policy.recipients),
        "deny_rules": len(policy.deny),
    }

    def render(out: Console) -> None:
        out.print(f"[green]ok[/] policy {escape(policy.label)} ({', '.join(policy.sources)})")
        out.print(
            f"  {data['purposes']} purposes, {data['roles']} roles, {data['principals']} "
            f"principals, {data['recipients']} recipients, {data['deny_rules']} deny rules"
        )

    emit(data, as_json, render)


@app.command(name="explain")
def explain_command(
    ctx: typer.Context,
    field: Annotated[list[str], typer.Option("--field", help="Field asked for; repeat for more.")],
    principal: str = typer.Option(..., "--principal", help="Who asks."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose key (Fides data use)."),
    action: str = typer.Option("read", "--action", help="read, export, share, write or delete."),
    recipient: str | None = typer.Option(None, "--recipient", help="Who receives the result."),
    customers: int = typer.Option(1, "--customers", min=0, help="How many customers it touches."),
    approved: bool = typer.Option(False, "--approved", help="An owner approved a large request."),
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Act only in this role; repeat for more.")
    ] = None,
    lang: str = LangOption,
    policy_path: Path | None = PolicyOption,
    as_json: bool = JsonOption,
) -> None:
    """Decide one request and explain the answer in English, Czech or Urdu."""
    if action not in ACTIONS:
        raise InvalidInput(
            N_("Unknown action '%(action)s'; use read, export, share, write or delete."),
            action=action,
        )
    if lang not in LANGUAGES:
        raise InvalidInput(N_("Unsupported language '%(lang)s'; use en, cs or ur."), lang=lang)
    engine = _engine(ctx, policy_path)
    request = Request(
        principal, purpose, tuple(field), action, recipient, customers, approved, tuple(role or ())
    )
    decision = engine.decide(request)
    explanation = explain(decision, lang)

    def render(out: Console) -> None:
        colour = {"allow": "green", "conditional": "yellow", "partial": "yellow", "deny": "red"}
        out.print(
            f"[bold {colour[decision.effect]}]{decision.effect}[/] "
            f"[dim]({', '.join(sorted(decision.codes)) or '-'})[/]"
        )
        out.print(escape(explanation.text()))

    emit({"decision": decision.as_dict(), "explanation": explanation.as_dict()}, as_json, render)


@app.command(name="test")
def test_command(
    ctx: typer.Context,
    cases: Annotated[
        Path | None, typer.Argument(help="YAML test cases (default: the example's).")
    ] = None,
    policy_path: Path | None = PolicyOption,
    as_json: bool = JsonOption,
) -> None:
    """Run policy test cases; exits non-zero when any fails."""
    engine = _engine(ctx, policy_path)
    results = run_cases(engine, cases if cases is not None else EXAMPLE_TESTS)
    failed = [r for r in results if not r.passed]
    data = {
        "passed": len(results) - len(failed),
        "failed": len(failed),
        "policy": engine.policy.label,
        "cases": [
            {"name": r.case.name, "passed": r.passed, "problems": list(r.problems)} for r in results
        ],
    }

    def render(out: Console) -> None:
        for result in results:
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            out.print(f"{mark} {escape(result.case.name)}")
            for problem in result.problems:
                out.print(f"     {escape(problem)}")
        summary = f"{data['passed']} passed, {data['failed']} failed"
        out.print(f"[bold {'red' if failed else 'green'}]{summary}[/]")

    emit(data, as_json, render)
    if failed:
        raise typer.Exit(1)
